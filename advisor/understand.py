"""Question understanding: the user's situation and the kind of question, by rules kept as data.

Real users describe their situation rather than fill slots: "I have two 3090s and 64 GB of RAM;
can I run a 70B at Q4_K_M?" carries the hardware they own (2 x 24 GB, 64 GB system RAM), a
model size, a quantization format and a question kind (fit). Each table below maps patterns to
slots; :func:`read_situation` applies them to a question and fills a :class:`WorkloadSpec`.
No model is involved, so the result is the same every time and testable line by line.
"""

from __future__ import annotations

import re
from typing import Literal

QuestionKind = Literal[
    "fit",
    "speed",
    "capacity",
    "duration",
    "cost",
    "choose",
    "availability",
    "explain",
    "troubleshoot",
]
Workload = Literal["inference", "batch_inference", "pretraining", "full_finetune", "lora", "qlora"]

# -- the kind of question: first matching rule wins -------------------------------------
# Strong cues come first (an error message, "can I run"), weaker ones later ("how much
# memory", "which"). A question with none of them falls back to _default_kind().
FABRIC_NEED = (
    r"\bdo (?:i|we|you) (?:really |even |actually )?need (?:an? )?(?:infiniband|nvlink|"
    r"nvswitch|roce|rdma|gpudirect|\d+ ?g(?:b|bps)?(?:/s)? (?:network|networking|nics?)|"
    r"(?:fast|high-speed|low-latency) (?:interconnect|network\w*))\b"
)
_FABRIC_NEED_RE = re.compile(FABRIC_NEED, re.I)
FABRIC_TOPIC = (
    "interconnect between GPUs and nodes: NVLink, InfiniBand, RoCE, network bandwidth per GPU, "
    "multi-node data parallel and tensor parallel traffic"
)


def asks_about_fabric(text: str) -> bool:
    """ "Do I need InfiniBand / NVLink for ...?": a question about the interconnect itself."""
    return bool(_FABRIC_NEED_RE.search(text))


KIND_RULES: tuple[tuple[QuestionKind, str], ...] = (
    ("explain", FABRIC_NEED),  # "do I need InfiniBand for 2 nodes?": from the guides
    (
        # "why do more GPUs make generation slower?" asks for the mechanism; "why is MY
        # card slow?" is troubleshooting (rules below)
        "explain",
        r"^\W*(?:anyone (?:understand|know) )?why (?:do|does|is|are|would|use|adding)\b"
        r"(?![^?]*\b(?:my|i|i'm|we|our|me)\b)(?![^?]*\b(?:error|oom|out of memory|crash)\w*)"
        # "why is it so slow on my 4090? is it normal?" is a complaint about a speed
        r"(?![^?]*\b(?:so|too|very|extremely) slow)(?!.*\bis (?:it|this|that) normal\b)",
    ),
    (
        # "is llama.cpp supporting model parallelism?", "does vLLM support LoRA adapters?"
        "explain",
        r"\b(?:is|does|do|can) (?:the )?(?:current )?[\w.-]+ (?:support|supporting|supports)\b"
        r"(?![^?]*\b(?:my|i)\b[^?]*\b(?:error|oom|out of memory)\b)",
    ),
    (
        "availability",
        r"\b(?:not available|unavailable|availability|available in|offered in|quotas?|"
        r"stockouts?|out of stock|no (?:more )?capacity|(?:not enough|out of) capacity|"
        r"insufficient\w*capacity|"
        r"zone_resource_pool_exhausted|resource_pool_exhausted|capacity (?:error|issue|problem)s?|"
        r"which regions?|in (?:my|this|that) region|limit increase|gr[ae]yed out|"
        r"resource ?limit ?exceeded|limitexceeded|quota exceeded|"
        r"(?:core|quota|limit|vcpu) increase|regional (?:v?cpu )?cores?)\b",
    ),
    (
        "troubleshoot",
        r"\b(?:oom|ooms|oomed|out of memory|outofmemoryerror|insufficient (?:memory|vram)|"
        r"not enough (?:gpu )?(?:memory|vram)(?=[.!\"'])|"
        r"cuda error|errors?|exception|"
        r"traceback|crash\w*|fails?|failed|failing|failure|timed? ?out|timeouts?|hangs?|hanging|"
        r"stuck|not working|doesn'?t work|does not work|won'?t (?:load|start|run)|killed|"
        # "Ollama doesn't use my Radeon RX 6600", "vLLM is not detecting the GPU"
        r"(?<!\bi )(?<!\bwe )(?<!\byou )(?<!\bthey )(?:doesn'?t|does not|isn'?t|is not|not|won'?t)"
        r" (?:use|using|utili[sz]\w*|detect\w*|see|seeing|recogni[sz]\w*)\b"
        r"(?= (?:the |my |any |a |an |our )?(?:gpu|cuda|vram|card|radeon|nvidia|amd|geforce|rtx|"
        r"gtx|intel|arc|metal|apple|mps|rocm|[a-z]*\d{3,4}))|"
        r"segfault|segmentation fault|runtimeerror|cannot allocate|can'?t allocate|"
        r"unable to allocate|tried to allocate|nccl warn|watchdog|deadlock|nan loss|"
        r"too much (?:ram|memory|vram)|eat(?:s|en|ing)? (?:all )?(?:the )?(?:ram|memory|vram)|"
        r"problems? (?:loading|running|with)|issues? (?:loading|running)|"
        r"(?:can'?t|cannot|unable to|fails? to|failing to) (?:load|run|start|allocate)|"
        r"gpu[- ]?util\w*\s+(?:is\s+)?(?:too\s+|very\s+|so\s+)?low|low gpu[- ]?util\w*|"
        r"i/?o[- ]bound|data ?loader\w* (?:is )?(?:slow|bottleneck)|"
        r"(?:value|runtime|assertion|key|type|index|import|os|memory)error)\b|"
        r"爆显存|显存不足|显存不够|报错",
    ),
    (
        # "how fast will X run on my card?" asks for a speed, though it says "run"
        "speed",
        r"\bhow fast (?:will|would|does|do|can|could|is)\b|\bwhat (?:speed|t/s|tokens? per "
        r"second)\b|\bhow many tokens? (?:per|a) second\b|"
        # "decode 速度 0.1 tokens/s 都不到, 正常吗": is a reported speed normal
        r"(?:tok(?:en)?s?\s*/\s*s|t/s|速度)[^?？]{0,200}?(?:正常吗|是否正常)|"
        # "推理速度慢，只有5-6token/s": a complaint about a speed, before any "可以...推理"
        r"速度慢|很慢|太慢|只有\s*\d+(?:\.\d+)?(?:\s*-\s*\d+)?\s*(?:tok(?:en)?s?/s|t/s|token)",
    ),
    (
        "fit",
        r"\b(?:can (?:i|we|it|you|one) (?:even |still |also |really |\w+ly )?"
        r"(?:run|load|fit|use|host|serve|deploy|fine-?tune|train|do|infer)|"
        r"(?:will|would|does|do|could) (?:it|this|that|they|\w+ \d+b) "
        r"(?:fit|run|work)|is it possible to (?:run|load|fit|fine-?tune|finetune|train|learn|use|"
        r"deploy|serve|host|infer)|possible to run|"
        r"able to (?:run|load|fine-?tune)|enough (?:vram|memory|ram)|fits? (?:in|on|into)|"
        r"(?:is there|any) (?:a |any )?way to (?:run|load|fit|use|fine-?tune|finetune|train|"
        r"deploy|serve|infer)|"
        r"fit (?:it|this|that)|is \d+ ?gb enough|(?:required|needed|enough) to (?:run|load|train|"
        r"fine-?tune)|too (?:large|big) for|possible (?:to )?(?:run|load|train|fine-?tune|infer)|"
        r"how many gb|(?:will|would|can|could|does|do)\b[^.?!]{0,50}\b(?:run|load|fit|work)\b|"
        # "will one H100 be sufficient?", not "is AMX good enough?" (a judgement, not a fit)
        r"(?:will|would|is|are)\b[^.?!]{0,40}\b(?:be )?(?<!good )(?<!fast )(?<!powerful )"
        r"(?:sufficient|enough)\b(?! (?:data|tokens))|"
        r"(?:is|are) (?:a |an |one |two |\d+ )?[\w -]{1,30} (?<!good )(?<!fast )"
        r"(?:sufficient|enough) (?:for|to))"
        r"|能否|能不能|能跑|可否|是否(?:可以|能)|可以跑|跑得动|跑起来|装不下|放不下|塞不下|跑不起来|跑不动|带不动|加载不了|可以[^？?。]{0,16}(?:推理|运行|部署|加载|微调|训练|调|跑)|"
        # "4张4090够吗", "need at least 129G GPU memory?", "how to train llama2-7b in a100 80G"
        r"够吗|够不够|够用吗|足够吗|"
        r"\bneeds? (?:at ?least|atleast|minimum) \d+(?:\.\d+)? ?(?:gb?|gib)\b|"
        r"\bhow (?:to|can i|do i) (?:train|run|fine-?tune|finetune|deploy|load|serve) "
        r"[^?.]{1,40}\b(?:on|in|with) (?:an? |my |one |\d+ ?x? ?)?[a-z]*\d{2,4}",
    ),
    (
        "speed",
        r"(?:\btok(?:en)?s?\s*/\s*(?:s|sec|second)\b|\bt/s\b|"
        r"\btokens? (?:per|a) (?:second|minute)\b|速度|每秒|"
        r"\bhow fast\b|\bspeeds?\b|\bslow\w*\b|\bfaster\b|\bprompt processing\b|\bit/s\b|"
        r"\bms per token\b|\bms/token\b|\btime to first token\b|\bttft\b|"
        r"\blatency per token\b|\btime per (?:output )?token\b|"
        # "takes 60 seconds to answer", "要60秒才返回结果", "推理很慢"
        r"\btakes? (?:about |around |over |~ ?)?\d+ ?(?:s|secs?|seconds?|minutes?|mins?) (?:to "
        r"(?:respond|answer|reply|return|generate|finish)|for (?:the|a|each|one) "
        r"(?:transcription|generation|response|answer|image|reply))\b|\d+\s*秒才|慢)",
    ),
    (
        "duration",
        r"\b(?:how long|how many (?:days|hours|weeks|months)|time to (?:train|fine-?tune)|"
        r"estimated? (?:training |fine-?tuning )?time|time estimates?|"
        r"take to (?:train|fine-?tune|pretrain)|training time|wall[- ]clock|eta|gpu[- ]hours|"
        r"[ahlbv]\d{2,3}s?[- ]hours|"
        r"\d+(?:\.\d+)? ?(?:hours?|days?|weeks?|hrs?)\b[^.?!]{0,40}\b(?:is (?:this|it|that) "
        r"(?:normal|expected|reasonable))|"
        r"number of hours|how much (?:resources?|compute|time) (?:it |did it |does it )?"
        r"(?:took|take))\b|要多久|多久|多长时间|多少时间|训练时长|训练时间|几天|几个小时",
    ),
    (
        "capacity",
        r"\b(?:how many (?:concurrent |simultaneous )?(?:users|requests|people|clients)|"
        r"how many (?:gpus?|cards?|nodes?|[a-z]{0,3}\d{2,4}s?|instances?|servers?|"
        r"accelerators?|replicas?|chips?)(?![\s-]*(?:hours?|days?)\b)|"  # not "H100 hours"
        r"requests? (?:per|a|/) ?s(?:ec(?:ond)?)?|rps|qps|"
        r"concurrent (?:users|requests?|sessions)|\d+ (?:users|requests)|simultaneous users|"
        r"max[_ -]?num[_ -]?seqs|overloaded|"
        r"how much (?:training |gpu |compute )?resources? (?:are |is |do i )?"
        r"(?:needed|required|need))\b|"
        r"并发(?:上限|人数|数|量)",
    ),
    (
        "cost",
        r"(?:\$|\bhow much (?:is|are|does|do)\b[^?]{0,40}\b(?:per|a|an) (?:hour|month|year)\b|"
        r"\b(?:costs?|costing|price[sd]?|pricing|cheap\w*|expensive|budget|"
        r"per million tokens|tco|break[- ]even|spend|bill\w*|how much money|"
        r"bought vs rented|buy vs rent)\b|花费|费用|多少钱|成本|美元|人民币)",
    ),
    (
        "fit",
        r"\b(?:how much (?:vram|memory|gpu memory|ram|hbm)|vram (?:needed|required|"
        r"requirements?|usage)|memory (?:requirements?|needed|footprint|usage)|"
        r"(?:need|require)s? (?:\w+ )?(?:vram|gpu memory)|minimum (?:gpu|hardware|vram)|"
        r"run (?:it|this|that|\w+(?: \w+)?) on|hardware requirements?|"
        r"how much (?:gpu |video )?mem|mem(?:ory)? (?:needed|required))\b|"
        # "需要多大的显存", "至少需要多少G的卡", "怎么部署72B模型": how much memory, how to fit
        r"多(?:大|少)(?:的)?显存|多少\s*G|显存(?:需要|要求|多大|多少)|"
        r"(?:怎么|如何)(?:才能)?(?:部署|推理|运行|跑)",
    ),
    (
        "choose",
        r"\b(?:which (?:gpu|card|one|instance|cloud|provider|accelerator|option|model|"
        r"setup|is better|should)|should (?:i|we) (?:buy|get|use|go|rent|pick|choose|"
        r"upgrade|switch|move)|vs\.?|versus|better|recommend\w*|best|compare|comparison|worth it|"
        r"cloud or on-?prem\w*|on-?prem\w* or cloud|buy or rent|rent or buy)\b",
    ),
    (
        "explain",
        r"\b(?:what (?:is|are|does|do)|what's|whats|difference|explain\w*|how come|"
        r"how (?:is|are) [^?]{0,60}\b(?:lower|higher|smaller|larger|faster|slower)\b|"
        r"how (?:does|do) \w+ work|why|when (?:to|should)|meaning|pros and cons|expected|"
        r"can (?:we|i) enable|tradeoffs?|trade-offs?)\b",
    ),
)
_KIND_RES = tuple((kind, re.compile(p, re.I)) for kind, p in KIND_RULES)

# -- precision and quantization: the first pattern that matches wins ---------------------
WEIGHT_FORMAT_RULES: tuple[tuple[str, str], ...] = (
    (r"\b(?:exl2[ _-]?)?(\d(?:\.\d+)?)\s*-?\s*bpw\b", "exl2-{0}"),
    (r"\bexl2\b[^\d]{0,12}(\d(?:\.\d+)?)\b", "exl2-{0}"),
    # a stated average with a fraction ("UD-Q2_K_XL (2.51bit)", "the 1.58-bit quant")
    (r"\b(\d\.\d{1,2})\s*-?\s*bits?\b", "{0}bit"),
    (r"(?:\b|_)(i?q[1-8]_(?:k_[sml]|k_xl|k|[01]|xxs|xs|s|m|nl))\b", "{0}"),  # also 7B_q4_0
    (r"(?:\b|_)(tq[12]_0)\b", "{0}"),
    (r"\b(?:q4km|q4-k-m)\b", "q4_k_m"),
    (r"\b(?:q5km|q5-k-m)\b", "q5_k_m"),
    (r"\bmxfp4\b", "mxfp4"),
    (r"\bnvfp4\b|\bfp4\b", "fp4"),
    (r"\bgptq\b", "gptq"),
    # GPTQ by naming convention: a group-size suffix ("13b-4bit-128g"), and Qwen's own
    # "-Int4" checkpoints, which are GPTQ ("Qwen-14B-Chat-Int4")
    (r"\b4[-_ ]?bit[-_ ]?(?:32|64|128)g?\b|[-_](?:32|64|128)g\b|\bqwen[\w.-]*-int4\b", "gptq"),
    (r"\bawq\b", "awq"),
    (r"\bnf4\b|\bbnb[ -]?4\s*-?bit\b|\bload_in_4bit\b|\bbitsandbytes\b.{0,20}\b4[ -]?bit\b", "nf4"),
    (
        r"\bload_in_8bit\b|\bllm\.int8\b|\bbitsandbytes\b.{0,20}\b8[ -]?bit\b|\beetq\b",
        "int8",
    ),
    (r"\bfp8\b|\bfloat8\b|\be4m3\b|\b8[- ]?bit float", "fp8"),
    (r"\bint8\b|\b8[- ]?bits?\b|\bw8a8\b", "int8"),
    (r"\bint4\b|\b4[- ]?bits?\b|\bw4a16\b", "int4"),
    (r"\bq8f(?:16|32)_\d\b", "int8"),  # MLC LLM: 8-bit weights, 16-bit activations
    (r"\bq[34]f(?:16|32)_\d\b", "int4"),
    (r"\bq8\b", "q8_0"),
    (r"\bq4\b", "q4_0"),
    (r"\bq5\b", "q5_k_m"),
    (r"\bq6\b", "q6_k"),
    (r"\bbf16\b|\bbfloat16\b", "bf16"),
    (
        r"\b(?:without|no) quantization\b|\bun-?quantized\b|\bnon-?quantized\b|"
        r"非量化|未量化|不量化",
        "fp16",
    ),
    (
        r"\bfp16\b|\bfloat16\b|\bf16\b|\bhalf precision\b|\b16[- ]?bits?\b|"
        r"--dtype[= ]half\b|\bdtype=[\"']?half\b",
        "fp16",
    ),
    (r"\bfp32\b|\bfloat32\b|\bfull precision\b", "fp32"),
    # "each parameter uses 4 bytes", "2 bytes per parameter"
    (
        r"\b4 bytes? (?:per|for each|each|a) param|\bparam\w* (?:uses?|takes?|is|needs?) 4 bytes",
        "fp32",
    ),
    (
        r"\b2 bytes? (?:per|for each|each|a) param|\bparam\w* (?:uses?|takes?|is|needs?) 2 bytes",
        "fp16",
    ),
    (
        r"\b1 byte (?:per|for each|each|a) param|\bparam\w* (?:uses?|takes?|is|needs?) 1 byte",
        "int8",
    ),
)
_WEIGHT_RES = tuple((re.compile(p, re.I), key) for p, key in WEIGHT_FORMAT_RULES)
KV_CACHE_RULES: tuple[tuple[str, str], ...] = (
    (
        r"(?:cache[-_ ]type[-_ ]?[kv]?|kv[- ]?cache(?: in| at| to)?|ctk|ctv)\s*[= ]?\s*"
        r"(q8_0|q4_0|q8|q4|fp8|int8|f16|fp16|bf16|int4)\b",
        "{0}",
    ),
    (r"\b(q8_0|q4_0|fp8|int8|int4|q8|q4)\s*(?:quantized\s*)?kv[- ]?cache\b", "{0}"),
)
_KV_RES = tuple((re.compile(p, re.I), key) for p, key in KV_CACHE_RULES)

# -- workload and engine ------------------------------------------------------------------
WORKLOAD_RULES: tuple[tuple[Workload, str], ...] = (
    ("qlora", r"\bq-?lora\b|\b4[- ]?bit\s+lora\b"),  # "4bit LoRA" is QLoRA
    ("lora", r"\blora\b|\bpeft\b|\badapters?\b"),
    (
        "full_finetune",
        r"\bfull(?:[- ]parameter)? fine-?\s?tun\w*|\bfull fine ?tun\w*|\bfull-?ft\b|"
        r"\bfully fine-?\s?tun\w*|\bfull[- ]param(?:eter)?s?\b",
    ),
    ("pretraining", r"\bpre-?train\w*\b|\btrain(?:ing)? (?:\w+ )?from scratch\b|预训练"),
    ("full_finetune", r"全参数?(?:微调|训练)|全量(?:微调|训练)"),
    ("full_finetune", r"\bfine-?\s?tun\w*|\bfinetun\w*|\bsft\b|微调"),
    ("full_finetune", r"训练"),  # a bare "train" (预训练 is pretraining, above)
    (
        # how a released model was trained ("you trained for 5 epochs on 32 A100s", "GPUs
        # needed to train these models", "GPU hours used for training their models"): its
        # developers' run, which is pretraining
        "pretraining",
        r"\b(?:you|they|was|were|been) (?:\w+ )?trained\b|"
        r"\btrain(?:ing)? (?:these|those|your|their) (?:\w+ )?models?\b",
    ),
    ("full_finetune", r"\btrain(?:ing|s|ed)?\b(?! data)"),  # bare "train": see route
    (
        "batch_inference",
        r"\bbatch (?:inference|processing|jobs?)\b|\boffline (?:batch |inference)|"
        r"\b(?:a lot of|lots of|large amounts? of|millions of|thousands of) "
        r"(?:data|documents|prompts|samples|records|texts|rows|files)\b|"
        r"\b(?:a )?(?:large|big|whole) (?:dataset|corpus)\b",
    ),
    (
        "inference",
        r"\binfer(?:ence|ring)?\b|\brun(?:ning|s)?\b|\b跑|\bserv\w+\b|\bchat\w*\b|\bgenerat\w+\b|"
        r"\btok(?:en)?s?/s\b|\bt/s\b|\bload\w*\b|\bhost\w*\b|\bdeploy\w*\b|推理|部署|"
        # serving settings and stages name inference too
        r"\bmax_model_len\b|\bgpu_memory_utilization\b|\bmax_num_seqs\b|\bkv[- ]?cache\b|"
        r"\bprefill\b|\bdecod\w+\b|\bllm class\b|\bprompt processing\b|"
        r"\.(?:gguf|ggml)\b|\bggml\b",  # a llama.cpp model file is run, not trained
    ),
)
_WORKLOAD_RES = tuple((w, re.compile(p, re.I)) for w, p in WORKLOAD_RULES)
ENGINE_RULES: tuple[tuple[str, str], ...] = (
    # Ollama's model tags name it too: "qwen2.5:14b-instruct-q4_K_M", "mixtral:8x7b"
    (
        "ollama",
        r"\bollama\b|\b[a-z][a-z0-9.\-]*:(?:\d+(?:\.\d+)?[bm]|\d+x\d+b|latest|mini|medium)"
        r"(?![\w.])|\b[a-z][a-z0-9.\-]*:\d+(?:\.\d+)?[bm]-",
    ),
    ("koboldcpp", r"\bkoboldcpp\b"),
    ("lm studio", r"\blm ?studio\b"),
    ("ktransformers", r"\bktransformers\b"),
    (
        "llama.cpp",
        r"\bllama[ .\-_]?cpp\b|\bllama-server\b|\bllama-cli\b|\b-ngl\b|"
        r"\bn_gpu_layers\b|\bgguf\b",
    ),
    ("mlc-llm", r"\bmlc[- ]?llm\b|\bmlc\b"),
    ("gpt-fast", r"\bgpt-fast\b"),
    ("h2ogpt", r"\bh2ogpt\b"),
    ("jan", r"\bjan\.ai\b|\bjan app\b|\bjan'?s hub\b"),
    (
        "vllm",
        r"\bvllm\b|--gpu[-_]memory[-_]utilization\b|\bgpu_memory_utilization\b|--enforce[-_]eager\b",
    ),
    ("tgi", r"\btgi\b|\btext-generation-inference\b"),
    ("fastchat", r"\bfastchat\b"),  # after vLLM: "fastchat+vLLM" serves with vLLM
    ("sglang", r"\bsglang\b"),
    ("exllama", r"\bexllama\w*\b|\btabbyapi\b|\bexl2\b"),
    ("tensorrt-llm", r"\btensorrt[- ]?llm\b|\btrt-?llm\b"),
    ("mlx", r"\bmlx\b"),
    ("deepspeed", r"\bdeepspeed\b|\bzero[- ]?[123]\b"),
    ("fsdp", r"\bfsdp\b"),
    ("unsloth", r"\bunsloth\b"),
    ("axolotl", r"\baxolotl\b"),
    ("transformers", r"\btransformers\b|\bfrom_pretrained\b|\bhugging ?face\b|\bpipeline\(\b"),
    ("ggml", r"\bggml\b"),  # llama.cpp's older file format and library, named on its own
    # platforms that run the job, when no engine is named
    ("skypilot", r"\bskypilot\b|\bsky launch\b"),
    ("sagemaker", r"\bsagemaker\b"),
    ("eks", r"\beks\b"),
    ("databricks", r"\bdatabricks\b"),
)
_ENGINE_RES = tuple((e, re.compile(p, re.I)) for e, p in ENGINE_RULES)

# -- the hardware people own ---------------------------------------------------------------
# not digits inside a name ("A10G" is no 10 GB); "3x24GB" and "显存24G" still read
_GB = r"(?<![a-wyz])(\d+(?:\.\d+)?)\s*(?:gb|gib|g|gigs?|gigabytes?)\b"
VRAM_RULES = (
    # "VRAM: 23 of 24 GB in use": the card's memory is the second figure
    r"(?:vram|gpu memory)\s*:?\s*\d+(?:\.\d+)?\s*(?:gb\s*)?(?:of|/)\s*" + _GB,
    r"\b\d{1,2}\s*x\s*" + _GB,  # "3x24 GB": the memory of each card
    _GB + r"\s*(?:of\s+)?(?:vram|v-ram|gpu memory|gpu ram|video memory|graphics memory|"
    r"hbm\w*|gddr\w*|dedicated)",
    # "a 24GB card"; not "18.08GB per GPU" (what a job takes on each)
    _GB + r"\s*(?:(?!per\b|each\b|on\b|in\b|use\b|used\b|free\b)\w+\s+){0,2}?"
    r"(?:card|gpu|graphics card|video card)s?\b",
    r"(?:vram|gpu memory)\s*(?:of|is|:|=)?\s*" + _GB,
    # "显存为24G" is the card's memory; "使用显存为120G" / "占用显存" is what a job used
    # "显存只有8GB"; not "12G显存 64G内存", where the second figure is the RAM
    r"(?<!使用)(?<!占用)(?<!需要)(?<!用了)显存\s*(?:大小|容量)?\s*(?:为|是|有|只有|仅有|仅|才)?\s*"
    + _GB.replace(r"\b", "")
    + r"(?!\s*(?:的\s*)?(?:内存|ram|系统内存))",
    _GB.replace(r"\b", "") + r"\s*(?:的)?\s*显存",
    _GB.replace(r"\b", "") + r"\s*(?:的\s*)?(?:显卡|卡)",  # "一张48G的显卡"
    # "two GPUs with 24GB each", "8 GPUs of 80GB", "2 cards, 16 GB each"
    r"\b(?:gpus?|cards?)\W{0,3}(?:with|of|having|each with)?\s*(?:only\s+)?"
    + _GB
    + r"(?!\s*(?:of\s+)?(?:vram\s+)?(?:system|d?ram|cpu|host|disk|in total|total|combined))",
)
# Memory of all the cards together: "4 V100s, 128 GB in total", "两个4090 总共48GB".
TOTAL_MEMORY_RULES = (
    r"(?:一共|总共|总计|合计|in total|total of|combined)\s*(?:of\s+)?" + _GB.replace(r"\b", ""),
    _GB + r"\s*(?:of\s+)?(?:vram\s+|gpu memory\s+)?(?:in total|total|combined)\b",
)
SYSTEM_RAM_RULES = (
    r"\bram\s*:?\s*\d+(?:\.\d+)?\s*(?:gb\s*)?(?:of|/)\s*" + _GB,  # "RAM: 23 of 32 GB in use"
    r"\bmemory\s*:?\s*"
    + _GB
    + r"\s*(?:speed\s*:?\s*)?\d{4}\s*mhz",  # "Memory 32.0GB Speed: 2400 MHz"
    _GB + r"\s*(?:of\s+)?(?:(?:system|cpu|main|host|ddr\d\w*|ecc)\s+)*d?ram\b(?!\s*bandwidth)",
    _GB + r"\s*(?:of\s+)?(?:system|cpu|main|host)\s+memory\b",
    r"\b(\d{1,4})\s*(?:gb\s*)?ram\b",
    r"\b(?:d?ram|system memory)\s*(?:is|of|:|=)?\s*" + _GB,
    r"内存\s*(?:为|是|有)?\s*" + _GB.replace(r"\b", ""),
    _GB + r"\s*(?:的)?\s*内存",  # "576g 内存"
    _GB + r"\s*(?:of\s+)?(?:lp)?ddr\d",
    r"\b(?:lp)?ddr\d[\w-]*\s*(?:ram\s*)?(?:of\s+)?" + _GB,
)
UNIFIED_RULES = (
    _GB + r"\s*(?:of\s+)?(?:unified|shared)\s*(?:memory|ram)?",
    r"\bunified memory\s*(?:of|is|:)?\s*" + _GB,
)
APPLE_CUES = (
    r"\b(?:mac|macs|macbook\w*|macos|imac|apple|apple silicon|mac ?studio|mac ?mini|"
    r"m[1-5](?:\s*(?:pro|max|ultra))?)\b"
)
_APPLE_RE = re.compile(APPLE_CUES, re.I)
CPU_ONLY_RULES = (
    r"\bcpu[- ]only\b|\bonly (?:a |the |my )?cpu\b|\bno (?:dedicated )?gpu\b|"
    r"\bwithout (?:a |any )?gpu\b|\b(?:don'?t|do not|doesn'?t|does not) have (?:a |any )?"
    r"(?:dedicated |discrete )?(?:gpu|graphics card)\b|\bno (?:dedicated |discrete )?graphics\b|"
    r"\bon (?:the |my |a )?cpu\b|\bjust (?:the |my |a )?cpu\b|\bcpu inference\b|"
    r"\b(?:no|without) (?:a )?graphics card\b|\bcpu (?:instance|server|machine|node|box)s?\b",
)
# A CPU described by its cores, with no GPU word anywhere: it runs on the CPU.
CORES_RE = re.compile(
    r"\b\d+[- ]?(?:physical )?cores?\b|\b\d+[- ]core\b|"
    # a desktop CPU named as what it runs on: "on an Intel i5 processor", "on my Ryzen 7"
    r"\bon (?:an? |my |the )?(?:intel )?(?:core )?i[3579](?:[- ]\d{4,5}\w*)?\b(?: processor| cpu)?|"
    r"\bon (?:an? |my |the )?(?:amd )?ryzen\b",
    re.I,
)
# A CPU product or a CPU-only cloud instance named as the machine ("an Intel Core Ultra 7
# 255H", "Xeon Gold 6338", "EPYC 9654", "a c5.xlarge"): with no GPU word anywhere, the
# question is about CPU inference. Integrated-GPU parts in the catalog are matched as devices
# first (route), so this never hides them.
CPU_PRODUCT_RE = re.compile(
    r"\b(?:intel )?core (?:ultra )?[3579]\b|\b(?:intel )?core i[3579](?:[- ]\d{4,5}\w*)?\b|"
    r"\bultra ?[3579] ?\d{3}[a-z]{0,2}\b|"  # "ultra7 255H", "Ultra 5 125H"
    r"\bi[3579]-\d{4,5}\w*\b|\bxeon\b|\bepyc\b|\bthreadripper\b|\bryzen \d\b|"
    r"\bgraviton\s?\d?\b|\bampere altra\b|"
    # CPU instance families: AWS c/m/r/t (c5, m6i, r7g, t3), GCP n1/n2/c2/c3/e2 shapes
    r"\b(?:[cmrt][4-8][a-z]{0,3})\.(?:\d{0,2}x?large|medium|metal)\b|"
    r"\b(?:n1|n2d?|c2d?|c3d?|e2)-(?:standard|highmem|highcpu)-\d+\b",
    re.I,
)
GPU_WORD_RE = re.compile(
    # Apple's Metal, not an instance's ".metal" suffix ("m7i.metal-24xl" is a CPU machine)
    r"\b(?:gpus?|cuda|vram|graphics|nvidia|rtx|gtx|radeon|(?<![.\w-])metal|-ngl)\b",
    re.I,
)
RAM_KIND_RE = re.compile(r"\b(lpddr5x|lpddr5|ddr5|ddr4|ddr3)(?:[- @]?(\d{4}))?\b", re.I)
RAM_CHANNEL_RE = re.compile(
    r"\b(dual|quad|octa|two|four|six|eight|twelve|\d{1,2})[- ]channels?\b|(\d{1,2})\s*通道", re.I
)
_CHANNEL_WORDS = {
    "dual": 2,
    "two": 2,
    "quad": 4,
    "four": 4,
    "six": 6,
    "octa": 8,
    "eight": 8,
    "twelve": 12,
}
COUNT_WORDS = {
    "one": 1,
    "single": 1,
    "a": 1,
    "an": 1,
    "my": 1,
    "two": 2,
    "dual": 2,
    "pair": 2,
    "three": 3,
    "triple": 3,
    "four": 4,
    "quad": 4,
    "five": 5,
    "six": 6,
    "eight": 8,
    "ten": 10,
    "twelve": 12,
    "sixteen": 16,
}
# What a computed answer's guidance should be about: the topic of the question, not the
# names in it (a sizing question about Llama 2 70B is about GPU memory, not about Llama).
TOPIC_TERMS: dict[tuple[str, str], str] = {
    ("fit", "inference"): "GPU memory needed to run a model: weights, KV cache, quantization, "
    "offload to CPU RAM",
    ("fit", "training"): "fine-tuning memory: optimizer states, gradients, activations, LoRA, "
    "QLoRA, gradient checkpointing",
    ("speed", "inference"): "tokens per second of one stream: decode bound by memory bandwidth, "
    "prompt processing",
    ("troubleshoot", "inference"): "out of memory when running a model: KV cache, context, "
    "memory fraction",
    ("troubleshoot", "training"): "out of memory in training: optimizer states, activations, "
    "micro-batch, checkpointing",
    ("capacity", "inference"): "serving throughput, concurrency, batching and GPUs needed",
    ("duration", "training"): "training time: FLOPs, GPU-hours, utilization (MFU)",
}
# Where it runs adds its own vocabulary to the topic: a Mac, a local engine, a serving engine.
SETTING_TERMS: dict[str, str] = {
    "apple": "Apple Silicon unified memory, Metal GPU share (recommendedMaxWorkingSetSize), "
    "llama.cpp or MLX",
    "local": "llama.cpp or Ollama on a local GPU: -ngl layers offloaded, threads, num_ctx",
    "serving": "vLLM or TGI serving: gpu_memory_utilization, max_model_len, tensor parallel",
    "training": "DeepSpeed ZeRO or FSDP sharding, CPU offload, 8-bit optimizers",
}
# Several GPUs slower than one: the split is the usual cause (device_map layers in turn,
# tensor-parallel all-reduce over PCIe), and one replica per GPU the usual fix.
MULTI_GPU_SLOW_TERMS = (
    "several GPUs slower than one: transformers device_map model parallelism runs one GPU at "
    "a time; data parallelism, one copy per GPU; tensor parallel communication"
)
# Engines that run GGUF files (llama.cpp and its front ends), and all that run on one's own box.
GGUF_FILE_ENGINES = frozenset({"llama.cpp", "ollama", "koboldcpp", "lm studio", "jan", "ggml"})
LOCAL_ENGINE_NAMES = GGUF_FILE_ENGINES | {"exllama"}
SERVING_ENGINE_NAMES = frozenset({"vllm", "tgi", "sglang", "tensorrt-llm"})


def setting(spec_engine: str | None, apple: bool, training: bool, owned: bool) -> str | None:
    """Which SETTING_TERMS apply: the engine named first, then the hardware."""
    if training:
        return "training" if spec_engine in ("deepspeed", "fsdp", None) else None
    if apple:
        return "apple"
    if spec_engine in LOCAL_ENGINE_NAMES:
        return "local"
    if spec_engine in SERVING_ENGINE_NAMES:
        return "serving"
    return "local" if owned else None


_GENERIC = "gpu gpus card cards memory model models instruct chat base nvidia amd intel apple"
_GENERIC += " the a and with pro max ultra mini plus super ti sxm pcie nvl hf gguf"
GENERIC_NAME_WORDS = frozenset(_GENERIC.split(" "))

# A model family named without a size that has one obvious default.
FAMILY_DEFAULTS: dict[str, tuple[str, str]] = {
    "mixtral": ("mixtral-8x7b", "'Mixtral' read as Mixtral 8x7B (say 8x22B for the larger one)."),
}


def question_kind(text: str) -> QuestionKind | None:
    for kind, pattern in _KIND_RES:
        if pattern.search(text):
            return kind
    return None


_NEGATED = re.compile(
    r"(?:without|not|no|instead of|rather than|other than|except|non-?)\s*(?:the\s+|a\s+)?$", re.I
)


def weight_dtype(text: str) -> str | None:
    """The weight format named ("Q4_K_M", "GPTQ", "4.65bpw"), normalised; not a negated one."""
    from advisor.tools.quant import weight_format

    for pattern, key in _WEIGHT_RES:
        for m in pattern.finditer(text):
            if _NEGATED.search(text[max(0, m.start() - 14) : m.start()]):
                continue  # "without GPTQ", "non-quantized"
            raw = key.format(*(g.lower() for g in m.groups() if g)) if m.groups() else key
            fmt_ = weight_format(raw)
            if fmt_ is not None:
                return str(fmt_.key)
    return None


def kv_dtype(text: str) -> str | None:
    for pattern, key in _KV_RES:
        m = pattern.search(text)
        if m:
            value = key.format(m.group(1).lower())
            return {"q8": "q8_0", "q4": "q4_0", "f16": "fp16"}.get(value, value)
    return None


# A batch of sequences decoded together: "GLOBAL_BATCH_SIZE=4", "--max-batch-size 8",
# "batch size of 32", "at batch 16", "bs=8".
BATCH_SIZE_RULES = (
    r"(?:\b|_)batch[_\- ]?size\s*(?:of|=|:|is)?\s*(\d{1,4})\b",
    r"\b(?:at|with) (?:a )?batch (?:of )?(\d{1,4})\b",
    r"\bbatch of (\d{1,4})\b",
    r"\bbs\s*=\s*(\d{1,4})\b",
)
_BATCH_RES = tuple(re.compile(p, re.I) for p in BATCH_SIZE_RULES)


def batch_size(text: str) -> int | None:
    """The batch of sequences the question names, or None."""
    for pattern in _BATCH_RES:
        if m := pattern.search(text):
            value = int(m.group(1))
            return value if value >= 1 else None
    return None


# "a MacBook with 16MB RAM": no computer that runs a model has megabytes of RAM; a size
# machines are sold with, written in MB next to RAM, is gigabytes.
_RAM_TYPO = re.compile(
    r"\b(8|12|16|18|24|32|36|48|64|96|128|192|256|512)\s*mb\s+(?:of\s+)?"
    r"((?:unified\s+|system\s+)?(?:ram|memory))\b"
)


def ram_typos(text: str) -> str:
    """``text`` with "16MB RAM" read as "16GB RAM"."""
    return _RAM_TYPO.sub(lambda m: f"{m.group(1)}gb {m.group(2)}", text)


def strip_kv_mentions(text: str) -> str:
    """The text without its KV-cache precision phrases (so they do not read as weights)."""
    for pattern, _ in _KV_RES:
        text = pattern.sub(" ", text)
    return text


# Said after a name, these deny it: "LoRA is not an option", "QLoRA won't do".
_DENIED_AFTER = re.compile(
    r"^\s*(?:is|are|was)\s+(?:not|no)\b|^\s*(?:isn'?t|aren'?t|won'?t|doesn'?t|wasn'?t|can'?t|"
    r"cannot)\b",
    re.I,
)


def negated(text: str, start: int, end: int) -> bool:
    """Whether the words around text[start:end] deny it ("without PEFT", "LoRA is not ...")."""
    return bool(
        _NEGATED.search(text[max(0, start - 14) : start]) or _DENIED_AFTER.search(text[end:])
    )


# Words that say a model is being trained, and ones that only ever mean running it: a LoRA
# named in a question that runs a model ("inference of llama 13B + a Chinese LoRA in 4-bit")
# is part of the model, not the job.
TRAINING_VERB_RE = re.compile(r"\btrain\w*|fine-?\s?tun\w*|finetun\w*|\bsft\b|微调|训练", re.I)
STRONG_INFERENCE_RE = re.compile(
    r"\binfer(?:ence|ring)?\b|\bserv(?:e|es|ed|ing)\b|\bdeploy\w*|推理|部署|"
    r"\btok(?:en)?s?/s\b|\bt/s\b",
    re.I,
)


# "lora" inside a model's or file's name ("alpaca-lora-65B.ggml.q5_1.bin", "x-lora-13b"):
# a merged model someone runs, not LoRA training
_LORA_IN_NAME = re.compile(
    r"[\w.-]*lora[\w.-]*\.(?:ggml|gguf|bin|safetensors)\b|\w[\w.]*-lora-\d+(?:\.\d+)?b\b", re.I
)


# A training-stage suffix of a checkpoint's name ("llava-onevision-qwen2-72b-ov-sft",
# "zephyr-7b-dpo"): the model someone runs, not the job they run.
_STAGE_SUFFIX = re.compile(r"(?<=[\w.][-_])(?:sft|dpo|orpo|rlhf|ppo)\b", re.I)


def _in_model_name(text: str, start: int, end: int) -> bool:
    return any(n.start() <= start and end <= n.end() for n in _LORA_IN_NAME.finditer(text))


def _stage_in_name(text: str, start: int) -> bool:
    return any(m.start() == start for m in _STAGE_SUFFIX.finditer(text))


def workload(text: str) -> Workload | None:
    for w, pattern in _WORKLOAD_RES:
        for m in pattern.finditer(text):
            if w == "lora" and _in_model_name(text, m.start(), m.end()):
                continue
            if _stage_in_name(text, m.start()):
                continue
            if not negated(text, m.start(), m.end()):
                if (
                    w == "lora"
                    and not TRAINING_VERB_RE.search(text)
                    and STRONG_INFERENCE_RE.search(text)
                ):
                    return "inference"
                return w  # "without peft" is not LoRA
    return None


# Engines that hold the whole model in GPU memory: a model that does not fit is not moved to
# system RAM layer by layer as llama.cpp, Ollama or transformers' device_map="auto" do.
GPU_ONLY_ENGINES = frozenset({"tgi", "tensorrt-llm", "exllama", "mlc-llm"})
# How the other engines offload, for the advice.
OFFLOAD_SETTINGS = {
    "vllm": "vLLM --cpu-offload-gb",
    "sglang": "SGLang --cpu-offload-gb",
    "transformers": 'transformers device_map="auto"',
}


# Fine-tuning tools whose examples and defaults train adapters: a bare "fine-tune" with them
# means LoRA (axolotl's example configs) or QLoRA (unsloth loads the base in 4 bits).
ADAPTER_FIRST_ENGINES: dict[str, Workload] = {"axolotl": "lora", "unsloth": "qlora"}


def engine(text: str) -> str | None:
    for e, pattern in _ENGINE_RES:
        if pattern.search(text):
            return e
    return None


def _first_gb(rules: tuple[str, ...], text: str) -> float | None:
    for rule in rules:
        m = re.search(rule, text, re.I)
        if m:
            value = float(m.group(1))
            if 0 < value <= 65536:
                return value
    return None


def apple_context(text: str) -> bool:
    return bool(_APPLE_RE.search(text))


# "Insufficient VRAM ... I have 8GB": memory the user has, in a question about GPU memory
_GPU_MEMORY_TOPIC = re.compile(r"\bvram\b|\bgpu memory\b|\bcuda out of memory\b|显存", re.I)
_HAVE_GB = re.compile(
    r"\b(?:i have|i've got|i got|i only have|i have only)\s+(?:only\s+)?"
    r"(\d+(?:\.\d+)?)\s*(?:gb|gib|g)\b(?!\s*(?:of\s+)?(?:\w+\s+)?(?:d?ram|system|memory|disk|ssd))",
    re.I,
)


# Memory someone needs rather than has: "will need at least 32GB of VRAM", "需要24G显存".
_NEED_BEFORE = re.compile(
    r"(?:\bneeds?|\brequires?|\brequired|\bat least|\bminimum|\brecommended|\bover|"
    r"\bmore than|需要|至少|要求)\W*(?:\w+\W+){0,2}$",
    re.I,
)
_HAVE_ZH = re.compile(r"(?:我有|我只有|只有|现有|手上有|手里有|一张|一块|单卡)[^，。,.]{0,8}$")


def device_memory_gb(text: str) -> float | None:
    """The card's memory. Of several amounts, the one the user has ("ran out of VRAM on my
    24GB card ... will need at least 32GB of VRAM" is 24), not one that is needed; else the
    first by rule order."""
    found = [
        (m.start(), float(m.group(1)))
        for rule in VRAM_RULES
        for m in [re.search(rule, text, re.I)]
        if m and 0 < float(m.group(1)) <= 65536
    ]
    if len({v for _, v in found}) <= 1:
        return found[0][1] if found else None

    def before(at: int) -> str:
        return text[max(0, at - 40) : at]

    owned = [
        v for at, v in sorted(found) if _HAVE.search(before(at)) or _HAVE_ZH.search(before(at))
    ]
    if owned:
        return owned[0]
    had = [v for at, v in found if not _NEED_BEFORE.search(before(at))]
    return (had or [found[0][1]])[0]


# "is 20GB enough?", "20G也能够吗", "24G够吗": the amount asked about, in a VRAM question
_ENOUGH_GB = re.compile(
    r"\b(?:is|are|would|will)\s+(\d+(?:\.\d+)?)\s*(?:gb|gib|g)\s+(?:of\s+vram\s+)?"
    r"(?:be\s+)?(?:enough|sufficient)\b|"
    r"(\d+(?:\.\d+)?)\s*(?:gb|gib|g)\s*(?:显存)?\s*(?:也)?(?:能够|足够|够|可以|行)(?:吗|么|嘛)",
    re.I,
)


def unnamed_gpu_memory_gb(text: str) -> float | None:
    """'I have 8GB' or 'is 20GB enough?' in a question about VRAM that names no card: that
    card's memory."""
    if not _GPU_MEMORY_TOPIC.search(text):
        return None
    if m := _HAVE_GB.search(text):
        value = float(m.group(1))
    elif m := _ENOUGH_GB.search(text):
        value = float(m.group(1) or m.group(2))
    else:
        return None
    return value if 0 < value <= 1024 else None


def total_memory_gb(text: str) -> float | None:
    """The memory of all the cards together, when the question says a total."""
    return _first_gb(TOTAL_MEMORY_RULES, text)


_HAVE = re.compile(
    r"\b(?:i have|i've got|ive got|i got|i own|with|my|has|have)\s+(?:\w+\s+){0,2}$", re.I
)


def system_ram_gb(text: str) -> float | None:
    """System RAM; of several amounts, the one the user has ("recommended 8 GB ... I got 24 GB
    of RAM" is 24), else the first."""
    found = [
        (m.start(), float(m.group(1)))
        for rule in SYSTEM_RAM_RULES
        for m in re.finditer(rule, text, re.I)
        if 0 < float(m.group(1)) <= 65536
    ]
    if not found:
        return None
    owned = [v for at, v in sorted(found) if _HAVE.search(text[max(0, at - 40) : at])]
    return (
        owned[0] if owned and len({v for _, v in found}) > 1 else _first_gb(SYSTEM_RAM_RULES, text)
    )


def unified_memory_gb(text: str) -> float | None:
    """Unified memory of a Mac: said outright, or any 'N GB' in a question about a Mac."""
    value = _first_gb(UNIFIED_RULES, text)
    if value is None and apple_context(text):
        value = system_ram_gb(text) or _first_gb((_GB,), text)
    return value


OWNED_RULES = (
    r"\b(?:my|mine|i have|i've got|ive got|i got|i own|i bought|i'm using|we have|our own|at home|"
    r"homelab|home lab|desktop|workstation|laptop|my pc|gaming pc|rig)\b",
    r"\b(?:a |one )?single (?:gpu|card)\b|\bone (?:gpu|card)\b",
)


def owned(text: str) -> bool:
    """The user speaks of hardware they have ("my 3090", "I have 8x A100", "a single V100")."""
    return any(re.search(rule, text, re.I) for rule in OWNED_RULES)


def cpu_only(text: str) -> bool:
    if any(re.search(rule, text, re.I) for rule in CPU_ONLY_RULES):
        return True
    named_cpu = CORES_RE.search(text) or CPU_PRODUCT_RE.search(text)
    return bool(named_cpu) and not GPU_WORD_RE.search(text)


def ram_details(text: str) -> tuple[str | None, int | None, int | None]:
    """(DDR kind, channels, MT/s) if the question says them."""
    kind = rate = channels = None
    if m := RAM_KIND_RE.search(text):
        kind = m.group(1).upper()
        rate = int(m.group(2)) if m.group(2) else None
    if m := RAM_CHANNEL_RE.search(text):
        word = (m.group(1) or m.group(2)).lower()
        channels = _CHANNEL_WORDS.get(word) or (int(word) if word.isdigit() else None)
    return kind, channels, rate


_VENDOR = r"nvidia\s+|amd\s+|tesla\s+|geforce\s+|radeon\s+|intel\s+"
_VENDOR_TOKENS = {"nvidia", "amd", "tesla", "geforce", "radeon", "intel", "rtx", "gtx"}


def count_before(tokens: list[str], start: int) -> int | None:
    """A device count written before the device name: '2x', '2 x', 'two', 'dual', 'a pair of'."""
    before = [t.lower() for t in tokens[max(0, start - 4) : start]]
    while before and before[-1] in _VENDOR_TOKENS:
        before = before[:-1]  # "2 x NVIDIA A10G"
    if not before:
        return None
    last = before[-1]
    if m := re.fullmatch(r"(\d+)x?", last):
        return int(m.group(1))
    if last == "x" and len(before) >= 2 and before[-2].isdigit():
        return int(before[-2])
    if last in COUNT_WORDS and last not in ("a", "an", "my", "single", "one"):
        return COUNT_WORDS[last]
    if last == "of" and len(before) >= 2 and before[-2] == "pair":
        return 2
    if last in ("gpu", "card") and len(before) >= 2 and before[-2].isdigit():
        return int(before[-2])  # "a 4-GPU L40S server"
    if last in ("my", "our", "the", "these") and before[-3:-1][-1:] == ["of"]:
        n = before[-3] if len(before) >= 3 else ""
        if n.isdigit():
            return int(n)  # "on 2 of my 3090s"
        if n in COUNT_WORDS and n not in ("a", "an", "my"):
            return COUNT_WORDS[n]
    return None


def count_star(text: str, name_start: int) -> int | None:
    """'8*A100', '8 * 24G A10g', '4 * NVIDIA A10G': a count joined to the name by '*'."""
    if name_start < 0:
        return None
    m = re.search(
        r"(\d{1,3})\s*[*×]\s*(?:\d+(?:\.\d+)?\s*g(?:b|ib)?\s*)?(?:" + _VENDOR + r")?$",
        text[:name_start],
        re.I,
    )
    return int(m.group(1)) if m else None


# A context the user needs, not one a model name or a launch setting happens to give: "to
# support 128K context", "I need a 32k context", "must handle 100k tokens".
CONTEXT_NEEDED_RE = re.compile(
    r"\b(?:need|needs|require[sd]?|support|supporting|want|must (?:handle|support)|at least|"
    r"up to)\b[^.?!]{0,25}?\b\d+(?:[.,]\d+)?\s*k?\s*(?:-?\s*tokens?\s*)?(?:context|ctx|window)\b",
    re.I,
)


def context_needed(text: str) -> bool:
    return bool(CONTEXT_NEEDED_RE.search(text))


# Settings that set the context window: llama.cpp -c/--ctx-size, Ollama num_ctx, vLLM
# max_model_len, transformers max_length, ExLlama --length, "8192 tokens per request".
CONTEXT_RULES = (
    r"(?:--?(?:ctx[-_]size|c|context[-_]?(?:length|size)?|max[-_]?seq[-_]?len(?:gth)?|"
    r"max[-_]model[-_]len|max[-_]length|seq[-_]len|length|l)|num[-_]ctx|n[-_]ctx|"
    r"max_model_len|max_seq_len|max_seq_length|max_position_embeddings|context_length|"
    # training scripts' and koboldcpp's names for it
    r"--?cutoff[-_]len|cutoff_len|--?contextsize|model_max_length|--?block[-_]size|"
    r"block_size)[\"']?\s*[=: ]\s*(\d{3,7})\b",
    r"\b(\d{3,7})[- ]?(?:tokens?[- ])?context(?: length| window| size)?\b"
    r"(?!\s*(?:[kmg]i?b|bytes?)\b)",
    r"\b(\d{3,7})\s*(?:-?token)s?\s*(?:per (?:request|sequence|prompt)|context|ctx)\b",
    r"\b(?:max )?(?:model len(?:gth)?|context (?:length|size|window)|ctx len|"
    r"seq(?:uence)? len(?:gth)?)\s*(?:of|is|=|:|to)?\s*(\d{3,7})\b",
    r"\b(?:context|ctx)\s*(?:to|of|=|:)\s*(\d{3,7})\b(?![.,]?\d*\s*(?:[kmg]i?b|bytes?)\b)",
    # "set the context to 16384"; not "context: 686.00 MB", a size in memory
)


# The share of each GPU an engine may take: vLLM --gpu-memory-utilization (default 0.9),
# SGLang --mem-fraction-static, TGI --cuda-memory-fraction.
MEMORY_FRACTION_RE = re.compile(
    r"(?:gpu[-_ ]memory[-_ ]utili[sz]ation|mem[-_]fraction[-_]static|cuda[-_]memory[-_]fraction)"
    r"\s*[= :]\s*(0?\.\d+|1(?:\.0+)?)\b",
    re.I,
)


# DeepSpeed settings said in a question: "zero2", "ZeRO stage 3", "zero_stage": 2,
# "offload_optimizer=cpu", "offload_optimizer": {"device": "cpu"}.
ZERO_STAGE_RULES = (
    r"\bzero[-_ ]?(?:stage[-_ ]?)?\"?:?\s*\"?([0-3])\b",
    r"\bstage[-_ ]?([1-3]) zero\b|\bdeepspeed (?:zero )?stage[-_ ]?([1-3])\b",
    r"zero_optimization\W{0,12}stage\W{0,4}([0-3])\b",
)
OFFLOAD_OPTIMIZER_RE = re.compile(
    r"offload[-_ ]optimi[sz]er\W{0,6}(?:device\W{0,5})?(?:cpu|nvme|true)|optimi[sz]er offload|"
    r"offload(?:ing)? (?:the )?optimi[sz]er",
    re.I,
)


def deepspeed_settings(text: str) -> tuple[int | None, bool | None]:
    """(ZeRO stage, optimizer offloaded) if the question states them."""
    stage = None
    for rule in ZERO_STAGE_RULES:
        if m := re.search(rule, text, re.I):
            stage = int(next(g for g in m.groups() if g))
            break
    offload = True if OFFLOAD_OPTIMIZER_RE.search(text) else None
    return stage, offload


def memory_fraction(text: str) -> float | None:
    m = MEMORY_FRACTION_RE.search(text)
    if not m:
        return None
    value = float(m.group(1))
    return value if 0.05 <= value <= 1.0 else None


# A long-context build named by its window: "Llama-2-7B-32K-Instruct", "Yi-34B-200K".
_NAMED_WINDOW = re.compile(r"\b[\w.]+-\d+(?:\.\d+)?b(?:-chat|-instruct)?-(\d{1,3})([km])\b", re.I)


def context_in_model_name(text: str) -> int | None:
    """The context window a model's name carries; engines such as ExLlama and vLLM allocate
    the KV cache for it unless told otherwise."""
    if m := _NAMED_WINDOW.search(text):
        k = int(m.group(1))
        if m.group(2).lower() == "m":
            return k * 1024 * 1024 if k <= 10 else None  # "glm-4-9b-chat-1m": 1,048,576
        if k in (8, 16, 32, 64, 128, 256):
            return k * 1024
        if 4 <= k <= 1000:
            return k * 1000
    return None


def context_setting(text: str) -> int | None:
    for rule in CONTEXT_RULES:
        if m := re.search(rule, text, re.I):
            value = int(m.group(1))
            if 128 <= value <= 10_000_000:
                return value
    return None


_GB_TOKEN = re.compile(_GB.replace("(?<![a-wyz])", ""), re.I)


def gb_token(token: str) -> float | None:
    """The size a single token spells ("40GB", "24g"), or None: the same pattern as the rules."""
    m = _GB_TOKEN.fullmatch(token.strip())
    return float(m.group(1)) if m else None


def memory_after(text: str, name_end: int) -> float | None:
    """Memory written right after a device name: 'V100 16GB', 'A100 (40G)', '4090 48g'."""
    m = re.match(
        # "A100 GPUs (40GB)", "4090卡只有24G"
        r"(?:\s*(?:gpus?|cards?)\b|\s*(?:显?卡|張|张)?(?:只有|仅有|有|都是)?)?"
        r"[\s(\-,:]*(?:with|has|of|having)?\s*(?:only\s+|just\s+)?(\d+(?:\.\d+)?)\s*(?:gb|gib|g)\b"
        r"(?!\s*(?:of\s+)?(?:vram\s+)?(?:in total|total|combined))",
        text[name_end:],
        re.I,
    )
    if m:
        value = float(m.group(1))
        return value if 0 < value <= 4096 else None
    return None


def memory_before(text: str, name_start: int) -> float | None:
    """Memory written right before a device name: '8gb rtx 3060', 'a 24GB 3090'."""
    if name_start < 0:
        return None
    m = re.search(r"(\d+(?:\.\d+)?)\s*(?:gb|gib|g)\s*[-(]?\s*$", text[:name_start], re.I)
    if m:
        value = float(m.group(1))
        return value if 0 < value <= 4096 else None
    return None


def count_after(text: str, name_end: int) -> int | None:
    """A count written after the device name: 'RTX 3090 x2', '3090 (x4)', '4090 24GB * 6',
    'A100 gpus(2)'."""
    rest = text[name_end:]
    m = re.match(r"\s*\(?\s*(?:\d+(?:\.\d+)?\s*g(?:b|ib)?\s*)?[x*×]\s?(\d{1,3})\b", rest, re.I)
    m = m or re.match(r"\s*(?:gpus?|cards?)\s*\(\s*(\d{1,3})\s*\)", rest, re.I)
    m = m or re.match(
        r"\s*\(?\s*(\d{1,2})\s*[x*×]\s*\d+(?:\.\d+)?\s*g(?:b|ib)?\b", rest, re.I
    )  # "A100 8x80G"
    return int(m.group(1)) if m else None


# Launch settings that fix the number of GPUs: torchrun, DeepSpeed, vLLM, TGI, CUDA_VISIBLE_DEVICES.
GPU_COUNT_RULES = (
    r"--nproc[_-]per[_-]node[= ](\d{1,3})\b",
    r"--num[_-]gpus[= ](\d{1,3})\b",
    r"(?:--(?:tensor[_-]parallel[_-]size|tp|num[_-]shard)|(?<![\w-])-tp)[= ](\d{1,3})\b",
    r"\btensor[_ -]parallel[_ ]size \((\d{1,3})\)",  # vLLM's error: "tensor parallel size (6)"
    r"\b(\d{1,2})[- ]way tensor[- ]parallel",  # "8-way tensor parallel"
    r"\bgpus?\s*0\s*[-–]\s*(\d{1,2})\b",  # "GPU 0-7" is eight GPUs
)


_N = r"(\d{1,4}|two|three|four|five|six|eight|sixteen|dual)"
_N_ZH = r"(\d{1,4}|一|两|二|三|四|五|六|八|十六)"
ZH_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "八": 8, "十六": 16}
# Several machines: nodes times the GPUs in each ("2 nodes, each with 2 V100", "4 nodes of
# 8 x H100", "96 DGX-A100 (8x40G)"; a DGX/HGX box holds eight).
NODE_RULES = (
    rf"\b{_N}\s+(?:nodes?|machines?|servers?|hosts?)\b[^.?!]{{0,40}}?\b(?:each|per node)\b"
    rf"[^.?!]{{0,20}}?\b{_N}\s*(?:x\s*)?(?:gpus?|cards?|[a-z]+\d)",
    rf"\b{_N}\s+(?:nodes?|machines?|servers?|hosts?)\s+(?:of|with|x|×|\*)\s+{_N}\s*(?:x\s*)?"
    r"(?:gpus?|cards?|[a-z]+\d)",
    rf"\b{_N}\s+(?:nvidia\s+)?(?:dgx|hgx)\b",
    rf"\b{_N}\s+(?:nodes?|machines?|servers?)\W+{_N}\s*(?:x\s*)?(?:gpus?|cards?)\b[^.?!]{{0,30}}?"
    r"\bper (?:node|machine|server)\b",
    # "两台8卡A100服务器": machines (台/个节点) of N cards (卡)
    rf"{_N_ZH}\s*(?:台|个节点|个服务器|节点)\s*(?:服务器|机器|主机)?[，,\s]*"
    rf"(?:每台|每个节点|每节点|每个)?\s*{_N_ZH}\s*(?:卡|张|块)",
    # "2x8 H100": nodes x GPUs each, then the card (not "3x24 GB", memory per card)
    r"\b(\d{1,2})\s*x\s*(\d{1,2})\s+(?:nvidia\s+)?(?![\d.]+\s*g)[a-z]{1,4}\d{2,4}\b",
    # "4 GPUs per node, two nodes": the count per node first
    rf"\b{_N}\s*(?:x\s*)?(?:gpus?|cards?)\s+(?:per|in each|on each|each)\s+"
    rf"(?:node|machine|server)\b[^.?!]{{0,30}}?\b{_N}\s+(?:nodes?|machines?|servers?)\b",
)
ONE_BOX_RE = re.compile(r"\b(?:dgx|hgx)[- ]?(?:[a-z]\d{2,3}|station)\b", re.I)  # "DGX A100": 8


def node_gpu_count(text: str) -> int | None:
    """GPUs in all: nodes x GPUs per node, or None when the question names one machine."""
    for n, rule in enumerate(NODE_RULES):
        if m := re.search(rule, text, re.I):
            nums = [
                int(g) if g.isdigit() else COUNT_WORDS.get(g.lower(), ZH_NUMBERS.get(g, 0))
                for g in m.groups()
            ]
            total = nums[0] * (8 if n == 2 else nums[1])
            return total if total >= 2 else None
    if ONE_BOX_RE.search(text) and not re.search(r"dgx[- ]?station", text, re.I):
        return 8  # one DGX/HGX box holds eight GPUs
    return None


SLOW_RE = re.compile(
    r"\b(?:so|too|very|extremely|really|super|painfully|unusably) slow\b|\bslower than\b|"
    r"\bis (?:it|this|that) normal\b|\bslow (?:generation|inference|response|speed)\b|"
    r"\b(?:takes|taking) (?:forever|ages|minutes)\b|很慢|太慢|速度慢|变慢|慢了|"
    r"\btakes? (?:about |around |over |~ ?)?\d+ ?(?:s|secs?|seconds?|minutes?|mins?) (?:to "
    r"(?:respond|answer|reply|return|generate|finish)|for (?:the|a|each|one) "
    r"(?:transcription|generation|response|answer|image|reply))\b|\d+\s*秒才|是否正常|正常吗|"
    r"\bonly (?:getting |get )?(?:about |around )?\d+(?:\.\d+)?\s*"
    r"(?:tok(?:en)?s?/s|t/s|tokens? per second)|"
    r"只有\s*\d+(?:\.\d+)?(?:\s*-\s*\d+)?\s*(?:tok(?:en)?s?/s|t/s|token)",
    re.I,
)


# Running out of memory, in the words and errors people paste.
OOM_RE = re.compile(
    r"\b(?:oom|ooms|oomed|out of memory|outofmemoryerror|cannot allocate|can'?t allocate|"
    r"unable to allocate|tried to allocate|insufficient (?:memory|vram)|not enough (?:memory|vram|"
    r"ram)|(?:ran|run|running) out of (?:memory|vram|ram)|killed)\b|"
    r"爆显存|显存不足|显存不够|内存不足|装不下|放不下",
    re.I,
)


def reports_oom(text: str) -> bool:
    """The user ran out of memory ("CUDA out of memory", "process killed", "显存不足")."""
    return bool(OOM_RE.search(text))


def reports_slow(text: str) -> bool:
    """The user complains of slowness ("the response is too slow, is it normal?")."""
    return bool(SLOW_RE.search(text))


# Cloud TPU slice names: "v3-8" counts TensorCores on v2/v3/v4/v5p (two per chip) and chips
# on v5e ("v5litepod-8") and v6e (Google Cloud TPU docs, "TPU versions").
TPU_SLICE_RE = re.compile(r"\b(?:tpu[- ]?)?v([2-7])(e|p|litepod)?[-.](\d{1,4})\b", re.I)
_CHIP_SUFFIX = {"e", "litepod"}


def tpu_slice(text: str) -> tuple[str, int, str] | None:
    """(accelerator id, chips, the slice as written) for a TPU slice name in a TPU question."""
    if not re.search(r"tpu|\bxla\b", text, re.I):
        return None
    m = TPU_SLICE_RE.search(text)
    if not m:
        return None
    gen, suffix, n = m.group(1), (m.group(2) or "").lower(), int(m.group(3))
    variant = "e" if suffix in _CHIP_SUFFIX else suffix
    chips = n if suffix in _CHIP_SUFFIX else max(1, n // 2)
    if gen in ("5", "6") and not variant:
        return None  # "v5-8" names no product
    return f"tpu-v{gen}{variant}", chips, m.group(0)


# "What GPU should I buy to run 30B models locally?": a card to buy for one's own machine.
BUY_LOCAL_RE = re.compile(
    r"\b(?:which|what)\b[^?!]{0,30}\b(?:gpus?|cards?|graphics cards?)\b[^?!]{0,60}"
    r"\b(?:locally|at home|local(?:ly)?|on my (?:pc|desktop|machine)|home ?lab|consumer|"
    r"desktop|gaming pc|for my pc)\b|"
    r"\b(?:buy|purchase|get|build)\b[^?!]{0,40}\b(?:gpus?|cards?|graphics card)\b[^?!]{0,60}"
    r"\b(?:locally|at home|run|local)\b",
    re.I,
)


def buys_local_card(text: str) -> bool:
    return bool(BUY_LOCAL_RE.search(text))


# Words before a card that make it the one asked about when several are named.
COMPARES_RE = re.compile(
    r"\b(?:differences?|compare[ds]?|comparing|comparison|faster|slower|better|worse|"
    r"speed-?up|how much more)\b"
)


def compares(text: str) -> bool:
    """The question weighs things against each other ("the difference between an A100 and
    an H100", "why is the A6000 faster than the 6000 Ada"), so "X and Y" are options."""
    return bool(COMPARES_RE.search(text.lower()))


# Words before a card that make it someone else's (what a paper or the maintainers used,
# what a README requires): of several cards, another one is the user's.
REFERENCE_CUES = frozenset(
    [
        "you",
        "used",
        "mention",
        "mentioned",
        "paper",
        "readme",
        "recommended",
        "recommends",
        "requirement",
        "requirements",
        "saw",
        "authors",
        "they",
    ]
)
# A subject cue denied ("there is no channel to get an A100", "can't buy a 4090"): not it.
NEGATING_WORDS = frozenset(["no", "not", "can't", "cannot", "cant", "unable", "don't", "never"])

SUBJECT_CUES = frozenset(
    [
        "buy",
        "buying",
        "purchase",
        "purchasing",
        "order",
        "ordering",
        "get",
        "getting",
        "upgrade",
        "upgrading",
        "considering",
        "switch",
        "switching",
        "newer",
        "new",
    ]
)


def launch_gpu_count(text: str, parallel: bool = True) -> int | None:
    """GPUs a launch setting names. With ``parallel=False`` a tensor-parallel size is left
    out: it is the size of one replica ("TP=4 twice on one 8xH100 machine")."""
    for n, rule in enumerate(GPU_COUNT_RULES):
        if not parallel and "tensor" in rule:
            continue
        if m := re.search(rule, text, re.I):
            value = int(m.group(1)) + (1 if n == len(GPU_COUNT_RULES) - 1 else 0)
            return value if value >= 1 else None
    if m := re.search(r"cuda_visible_devices=([\d,]+)", text, re.I):
        return len([x for x in m.group(1).split(",") if x])
    return None
