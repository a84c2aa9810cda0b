"""Question understanding: tables of question -> expected slots and kind, over a small catalog.

The catalog here is a handful of rows cut from the shipped one (written to a temp dir), so a
test shows which rule read which slot, not what happens to be catalogued today.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from advisor.tools.catalog import default_catalog_dir, load_catalog

from advisor import understand as u
from advisor.route import Router

KEEP = {
    "accelerators.yaml": (
        "accelerators",
        {
            "rtx-3060",
            "rtx-3060-ti",
            "rtx-4060",
            "rtx-4060-ti-8gb",
            "rtx-4060-ti-16gb",
            "rtx-3090",
            "rtx-4090",
            "h100-sxm",
            "h200",
            "h20",
            "a100-40gb-sxm",
            "a100-80gb-sxm",
            "a10g",
            "v100",
            "v100-16gb-pcie",
            "apple-m2",
            "apple-m2-pro",
            "apple-m2-max",
            "apple-m2-ultra",
            "rtx-a6000",
            "xeon-8480",
            "raspberry-pi-5-8gb",
        },
    ),
    "models.yaml": (
        "models",
        {
            "llama-2-70b",
            "llama-2-13b",
            "llama-3.1-8b",
            "llama-3.1-70b",
            "mixtral-8x7b",
            "qwen2.5-14b",
            "deepseek-r1",
            "deepseek-r1-distill-qwen-7b",
            "deepseek-r1-distill-qwen-14b",
            "deepseek-r1-distill-qwen-32b",
        },
    ),
}


@pytest.fixture(scope="module")
def router(tmp_path_factory) -> Router:
    src = default_catalog_dir()
    dest: Path = tmp_path_factory.mktemp("small-catalog")
    for path in src.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.name in KEEP:
            key, ids = KEEP[path.name]
            data[key] = [row for row in data[key] if row["id"] in ids]
        elif path.name.startswith("instances-"):
            data["instances"] = [
                i for i in data["instances"] if i.get("accelerator") in ("h100-sxm", "a10g", None)
            ][:6]
            used = {p["region"] for i in data["instances"] for p in i["prices"]}
            used |= {r for i in data["instances"] for r in i.get("available_regions", [])}
            data["regions"] = [r for r in data["regions"] if r["id"] in used]
        elif path.name == "onprem.yaml":
            data["servers"] = [s for s in data["servers"] if s["accelerator"] == "h100-sxm"]
        (dest / path.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    cat = load_catalog(dest)
    assert len(cat.models) == len(KEEP["models.yaml"][1])
    return Router(cat)


ROUTES = [
    # (question, expected slots)
    (
        "I have two 3090s and 64 GB of RAM; can I run a 70B at Q4_K_M?",
        {
            "kind": "fit",
            "accelerator": "rtx-3090",
            "num_accelerators": 2,
            "system_ram_gb": 64,
            "params_b": 70,
            "dtype": "q4_k_m",
            "workload": "inference",
        },
    ),
    (
        "Can I run mixtral on my 12gb card?",
        {"kind": "fit", "model": "mixtral-8x7b", "device_memory_gb": 12},
    ),
    (
        "MacBook Pro M2 Max with 32GB, how fast will llama 3.1 8b q4_0 run?",
        {
            "kind": "speed",
            "accelerator": "apple-m2-max",
            "unified_memory_gb": 32,
            "model": "llama-3.1-8b",
            "dtype": "q4_0",
        },
    ),
    (
        "8x A10G to serve llama 3.1 70b AWQ with vLLM",
        {"accelerator": "a10g", "num_accelerators": 8, "dtype": "awq", "engine": "vllm"},
    ),
    (
        "getting 5 tok/s on rtx 4090 with llama 3.1 70b q4_k_m, is that normal?",
        {"kind": "speed", "observed_tokens_per_s": 5, "tokens_per_s": None},
    ),
    (
        "cpu only, 32gb ddr5-6000 dual channel, llama 3.1 8b Q8_0",
        {
            "cpu_only": True,
            "system_ram_gb": 32,
            "ram_kind": "DDR5",
            "ram_mt_s": 6000,
            "ram_channels": 2,
            "dtype": "q8_0",
        },
    ),
    (
        "exl2 4.65bpw llama 2 70b on 2x3090 with q4 kv cache",
        {
            "dtype": "exl2-4.65",
            "kv_dtype": "q4_0",
            "model": "llama-2-70b",
            "num_accelerators": 2,
            "engine": "exllama",
        },
    ),
    (
        "Can I infer llama v2 70b on single gpu nvidia v100? Gpu: Nvidia v100 16GB",
        {"model": "llama-2-70b", "accelerator": "v100-16gb-pcie", "workload": "inference"},
    ),
    (
        "I am testing Llama-2-70B-GPTQ with 1 * A100 40G, the speed is around 9 t/s",
        {
            "model": "llama-2-70b",
            "dtype": "gptq",
            "accelerator": "a100-40gb-sxm",
            "num_accelerators": 1,
            "observed_tokens_per_s": 9,
        },
    ),
    (
        "If I have 30G RAM and 8*24G A10g, can I run llama 2 70b?",
        {"accelerator": "a10g", "num_accelerators": 8, "system_ram_gb": 30, "kind": "fit"},
    ),
    (
        "Is it possible to run Vicuna-13B without GPTQ (full fp16) on 2 RTX4090?",
        {"dtype": "fp16", "accelerator": "rtx-4090", "num_accelerators": 2},
    ),
    (
        "8 x RTX 3090 (24 G), CUDA out of memory training 7B with fsdp in bf16 and without peft",
        {"kind": "troubleshoot", "workload": "full_finetune", "engine": "fsdp"},
    ),
    (
        "QLoRA fine-tune of qwen2.5 14b on a 24GB card",
        {"workload": "qlora", "method": "qlora", "model": "qwen2.5-14b", "device_memory_gb": 24},
    ),
    (
        "我现在有内存640GB，显存48GB，能否跑起来",
        {"kind": "fit", "system_ram_gb": 640, "device_memory_gb": 48},
    ),
    ("What is the difference between prefill and decode?", {"kind": "explain", "model": None}),
    # launch settings carry the count and the context
    (
        "OOM fine-tuning llama2-13b on A100: torchrun --nproc_per_node=2 train.py --bf16",
        {"accelerator": "a100-80gb-sxm", "num_accelerators": 2, "model": "llama-2-13b"},
    ),
    ("(GPU 0-7: Tesla V100) vllm serve", {"num_accelerators": 8, "engine": "vllm"}),
    (
        "llama-server -m model.gguf -c 16384 -ngl 99 on a 3090",
        {"context_tokens": 16384, "engine": "llama.cpp"},
    ),
    ("ollama with num_ctx 8192 on my 4090", {"context_tokens": 8192, "engine": "ollama"}),
    ("too large for 3x24 GB?", {"num_accelerators": 3, "device_memory_gb": 24}),
    ("4 * NVIDIA A10G 24 Gb, QLoRA llama 2 70b", {"accelerator": "a10g", "num_accelerators": 4}),
    # two hardware options compared
    (
        "2x RTX 3090 vs 1x RTX 4090 for running llama 3.1 70b?",
        {"kind": "choose", "options": [("rtx-3090", 2), ("rtx-4090", 1)]},
    ),
    # "X and Y" are options only when the question weighs them against each other
    (
        "What is the performance difference between an Nvidia A100 and H100?",
        {"options": [("a100-80gb-sxm", 1), ("h100-sxm", 1)]},
    ),
    ("I have an A100 and an H100 in the lab, can I run llama 3.1 8b?", {"options": None}),
    ("NCCL timeout on 2 nodes with RoCE", {"kind": "troubleshoot"}),
    # a LoRA that is part of the model run is no training job; training one still is
    (
        "3090 单卡可以在本地推理 llama13B + 中文lora 的 4-bit量化模型吗？",
        {"workload": "inference", "method": None, "dtype": "int4"},
    ),
    ("can I serve a lora adapter with vllm on a 4090?", {"workload": "inference", "method": None}),
    ("can I train a lora on my 3090 for llama 3 8b?", {"workload": "lora", "method": "lora"}),
    # several training methods asked about: the first sized, the others beside it
    (
        "对llama7B进行全量训练以及Lora训练时的显存占用",
        {"method": "lora", "other_methods": ["full"]},
    ),
    ("256G RAM(8通道 DDR4 2666)", {"ram_channels": 8, "ram_mt_s": 2666}),
    # a context the user needs is a requirement; one in a model name is only its default
    (
        "to support 128K context on 16GB VRAM 5060 TI",
        {"context_tokens": 131072, "context_needed": True},
    ),
    ("Llama-2-7B-32K-Instruct-GPTQ on 8GB", {"context_tokens": 32768, "context_needed": None}),
    ("I don't have a GPU, only 32GB RAM. Can I run llama 3.1 8b?", {"cpu_only": True}),
    ("vllm serve ... --dtype half on a V100", {"dtype": "fp16"}),
    ("TGI with --quantize eetq", {"dtype": "int8"}),
    ("llama 2 7b on my 4090 is too slow, is it normal?", {"reports_slow": True}),
    ("how fast is llama 2 7b on a 4090?", {"reports_slow": None}),
    # a Chinese count glued after a Latin word leaves the word whole; "4bit LoRA" is QLoRA
    (
        "想着用deepspeed双卡4bit LoRA微调llama 2 70b",
        {"engine": "deepspeed", "workload": "qlora", "method": "qlora"},
    ),
    ("I use v3-8 and xla-1.5 and get an hbm OOM", {"accelerator": None}),  # small catalog
    # a speed in tokens per minute is read per second
    (
        "llama 7B on llama.cpp responds at 4 tokens per minute on my M1 Pro",
        {"kind": "speed", "observed_tokens_per_s": 4 / 60},
    ),
    ("pretrain a 1B model on 8 A100s in a week", {"deadline_days": 7}),
    ("1 million requests per day of llama 3.1 8b", {"requests_per_s": 1e6 / 86_400}),
    ("fine-tune llama 3.1 8b with LoRA on 50k examples", {"tokens": 5e7}),
    ("LoRA on 20 examples", {"tokens": None}),
    # counts as people write them
    ("triple 3090 build, can it run 70b?", {"accelerator": "rtx-3090", "num_accelerators": 3}),
    ("a 4-GPU A10G server for llama 70b", {"accelerator": "a10g", "num_accelerators": 4}),
    ("7B on 2 of my 3090s", {"accelerator": "rtx-3090", "num_accelerators": 2}),
    ("4 nodes x 8 A100 to train", {"num_accelerators": 32}),
    ("两台8卡A100服务器", {"accelerator": "a100-80gb-sxm", "num_accelerators": 16}),
    ("p4d not available in my region", {"kind": "availability"}),
    ("Will an H20 run llama 3.1 8b?", {"accelerator": "h20"}),
    # a size that contradicts the name picks the variant with that size, or wins alone
    (
        "ollama run deepseek-r1:7b on my 4090",
        {"model": "deepseek-r1-distill-qwen-7b", "engine": "ollama"},
    ),
    ("deepseek r1 671b at q4", {"model": "deepseek-r1"}),
    ("llama 3.1 13b on a 3090", {"model": None, "params_b": 13}),
    (
        "Which model can run on RTX 4090 24GB + DDR4 64GB?",
        {"accelerator": "rtx-4090", "system_ram_gb": 64, "model": None},
    ),
    ("Will an H200 run llama 3.1 8b?", {"accelerator": "h200"}),
    # memory beside a card picks its variant, never a sibling product ("3060 Ti")
    ("A100 40G running llama 2 13b", {"accelerator": "a100-40gb-sxm"}),
    ("can 8gb rtx 3060 run the 13b model?", {"accelerator": "rtx-3060", "device_memory_gb": 8}),
    # CJK next to Latin letters keeps word boundaries: "Q4能到" is Q4; full-width folds
    (
        "4090 48g加576g内存跑deepseek R1 671b Q4能到什么速度",
        {"dtype": "q4_0", "system_ram_gb": 576, "kind": "speed"},
    ),
    (
        "显卡一张L40，能否把非量化版本的满血版671B deepseek跑起来？",
        {"model": "deepseek-r1", "dtype": "fp16", "kind": "fit"},
    ),
    # several machines: nodes x GPUs per node; a DGX holds eight
    ("2 nodes and each of them has 2 v100, tensor parallel", {"num_accelerators": 4}),
    (
        "96 NVIDIA DGX-A100 (8X40G) to train",
        {"num_accelerators": 768, "accelerator": "a100-40gb-sxm"},
    ),
    # a provider's own words name it
    ("NC series greyed out in the portal", {"provider": "azure"}),
    ("ResourceLimitExceeded for ml.p2.xlarge", {"provider": "aws", "kind": "availability"}),
    ("GPUS_ALL_REGIONS quota is 0", {"provider": "gcp"}),
    ("what does an 8x H100 node cost on Lambda Labs?", {"provider": "lambda"}),
    # two named: compare those two
    ("coreweave or nebius for B200s?", {"provider": None, "providers": ["coreweave", "nebius"]}),
    # the card to buy, not the one owned, is the subject; quoted cards are then no options
    (
        "I have an RTX 4090 ... should I buy an RTX 3090 for llama 2 13b?",
        {"accelerator": "rtx-3090"},
    ),
    (
        'You mention "V100 or A100", but can a newer RTX 4090 work?',
        {"accelerator": "rtx-4090", "options": None},
    ),
    # serving settings name inference
    ("max_model_len does not limit GPU utilization", {"workload": "inference"}),
    # of several RAM amounts, the one the user has; a CPU by its cores with no GPU word
    (
        "the recommendations are 8 GB of Ram. It has 4 Core CPU and I got 24 GB of Ram, ollama",
        {"system_ram_gb": 24, "cpu_only": True},
    ),
    ("llama-7B on 3080Ti with q8f16_0, only 10 tok/s", {"dtype": "int8"}),
    ("请教一下你们预训练用了1.1T tokens", {"workload": "pretraining"}),
    ("eksctl node group has no GPU nodes", {"provider": "aws"}),
    # Chinese device counts, memory glued to the name, totals over several cards
    ("单机8*32GV100 QLora微调仍然OOM", {"accelerator": "v100", "num_accelerators": 8}),
    ("使用的服务器为四台V100，一共128G", {"accelerator": "v100", "num_accelerators": 4}),
    ("我用两个4090显卡 总共48GB", {"accelerator": "rtx-4090", "num_accelerators": 2}),
    ("两张卡 总共48GB", {"num_accelerators": 2, "device_memory_gb": 24}),
    ("two cards with 48GB combined", {"num_accelerators": 2, "device_memory_gb": 24}),
    ("I have 4 V100s, 128 GB in total", {"num_accelerators": 4, "device_memory_gb": None}),
    # memory per card written after the cards: "GPUs with 24GB each", "GPUs of 80GB"
    ("I have two GPUs with 24GB each", {"num_accelerators": 2, "device_memory_gb": 24}),
    ("I have 2 GPUs, 24GB each. Can I run a 70B?", {"num_accelerators": 2, "device_memory_gb": 24}),
    ("We have 8 GPUs of 80GB", {"num_accelerators": 8, "device_memory_gb": 80}),
    ("2 GPUs with 64 GB of system RAM", {"device_memory_gb": None}),
    # Chinese memory glued to G: the VRAM, not the RAM written after it
    ("12G显存 64G内存，能不能跑qwen-32B", {"device_memory_gb": 12, "system_ram_gb": 64}),
    ("我的显卡显存只有8GB", {"device_memory_gb": 8}),
    ("40G显存跑不起来glm4-9b-1m", {"kind": "fit", "context_tokens": 1048576}),
    ("单卡A100 80G显存装不下全参数finetune", {"kind": "fit"}),
    ("我有24G显存，能跑qwen 14b吗", {"kind": "fit", "device_memory_gb": 24}),
    # sizes in millions by a model's name
    ("I loaded facebook/opt-125m with LoRA", {"params_b": 0.125}),
    ("training a 350M model on a T4", {"params_b": 0.35}),
    ("I have 512M of swap and a 3090", {"params_b": None}),
    # DeepSeek-R1 distills named in words
    ("能不能跑deepseek蒸馏版的qwen-32B", {"model": "deepseek-r1-distill-qwen-32b"}),
    ("the DeepSeek R1 distilled Qwen 14B on a 4060", {"model": "deepseek-r1-distill-qwen-14b"}),
    ("DeepSeek R1 distill Qwen2.5 32B", {"model": "deepseek-r1-distill-qwen-32b"}),
    # a tool that does not use the GPU is a problem to troubleshoot; "I don't use" is not
    ("Ollama doesn't use Radeon RX 6600", {"kind": "troubleshoot"}),
    ("vLLM is not detecting the GPU", {"kind": "troubleshoot"}),
    ("I don't use vLLM, can I run llama 3.1 8b on my 3090?", {"kind": "fit"}),
    # digits inside a card's name are not its memory: "A10G" is no 10 GB
    (
        "I have 4 A10G 24 GB GPUs and get CUDA OOM",
        {"accelerator": "a10g", "device_memory_gb": None},
    ),
    # an Ollama model tag names the engine
    ("qwen2.5:14b-instruct-q4_K_M on a 3060", {"engine": "ollama", "dtype": "q4_k_m"}),
    ("mixtral:8x7b on 64GB RAM", {"engine": "ollama"}),
    ("cuda:0 runs out of memory with llama 3.1 8b", {"engine": None}),
    # counts glued to the card, nodes x GPUs, n-way tensor parallel, an image size
    ("training llama 2 7b on A100x8", {"accelerator": "a100-80gb-sxm", "num_accelerators": 8}),
    ("my 3090x2 rig runs llama 3 70b at q4", {"num_accelerators": 2}),
    ("我们有4台服务器，每台8张A100", {"num_accelerators": 32}),
    ("on 2x8 H100 for llama 3 70b", {"accelerator": "h100-sxm", "num_accelerators": 16}),
    ("8-way tensor parallel on H100 for llama 3 70b", {"num_accelerators": 8}),
    ("too large for 3x24 GB?", {"num_accelerators": 3, "device_memory_gb": 24}),
    ("1920x1080 images on a 4090", {"accelerator": "rtx-4090", "num_accelerators": None}),
    # a CPU board the catalog knows is a CPU-only machine; beside a GPU it is the host
    (
        "Phi-2 with Q4_K_M on a Raspberry Pi 5 (8GB RAM)?",
        {"accelerator": "raspberry-pi-5-8gb", "cpu_only": True, "system_ram_gb": 8},
    ),
    ("llama 3.1 8b on my RTX 3090 with a Xeon 8480", {"accelerator": "rtx-3090", "cpu_only": None}),
    # a training stage in a checkpoint's name is the model run, not the job
    ('I loaded "llava-onevision-qwen2-72b-ov-sft" and get an error', {"workload": "inference"}),
    ("SFT of llama 3.1 8b on one A100", {"workload": "full_finetune"}),
    # vLLM's short flag for the tensor-parallel size
    ("benchmark_latency.py --model llama2_70b --batch-size 11 -tp 2 OOM", {"num_accelerators": 2}),
    # a zone out of capacity is availability
    ('There is no more capacity in the zone "europe-west4-a"', {"kind": "availability"}),
    # an adverb between "can I" and the verb
    ("Can I fully fine-tune a 13B model on 2x A100 40GB?", {"kind": "fit", "num_accelerators": 2}),
    # what a job used is not the card's memory
    ("全参微调13B的模型使用显存为120G, 4090", {"device_memory_gb": None}),
    # a tensor-parallel size is one replica, not the machine
    (
        "I have a single 8xH100 machine and run --tensor-parallel-size=4 twice",
        {"num_accelerators": 8},
    ),
    ("vLLM --tensor-parallel-size 2 on A100s", {"num_accelerators": 2}),
    ("TP 4, model len 1000, on a 4x 4090 rig", {"context_tokens": 1000, "num_accelerators": 4}),
    ("Can I run this on AWS Lambda to reduce GPU cost?", {"provider": "aws"}),
    ("If I set the context to 16384, llama 3 8b OOMs", {"context_tokens": 16384}),
    # a bare fine-tune with an adapter-first tool is its default; "full" keeps full
    ("2x RTX 3090 for finetuning LLaMAs with axolotl?", {"workload": "lora", "method": "lora"}),
    ("full fine-tuning with axolotl on 8 A100s", {"workload": "full_finetune"}),
    ("fine-tune llama 3 8b with unsloth on a T4", {"workload": "qlora"}),
    # glued words, Chinese OOM words, counts and memory in system reports
    (
        "4张3090lora微调Qwen7B爆显存",
        {"accelerator": "rtx-3090", "num_accelerators": 4, "params_b": 7.0, "kind": "troubleshoot"},
    ),
    (
        "CPU: 8 cores RAM: 23 of 32 GB in use GPU: 5% VRAM: 23 of 24 GB in use, rtx 3090",
        {"system_ram_gb": 32.0, "device_memory_gb": None, "accelerator": "rtx-3090"},
    ),
    (
        "A100 8x80G 7b模型 全量训练 128k 上下文长度",
        {"num_accelerators": 8, "context_tokens": 131072},
    ),
    ("4 nodes, 2 GPUs(H100, 80G) per node", {"num_accelerators": 8}),
    ("my GPU-UTIL is below 50% (8xA100-40G)", {"accelerator": "a100-40gb-sxm"}),
    (
        "attention heads (40) must be divisible by tensor parallel size (6) on H100s",
        {"num_accelerators": 6},
    ),
    ("fastchat+vLLM serving qwen 14b on 8*4090", {"engine": "vllm", "num_accelerators": 8}),
    ("No Option for Regional CPU core Increase", {"provider": "azure"}),
    # a size the catalog lacks is not swapped for another size of the family
    # (m7i.2xlarge: a real size of the catalogued m7i family that the catalog does not carry)
    ("VcpuLimitExceeded when I start a m7i.2xlarge", {"instance": None, "provider": "aws"}),
    ("VcpuLimitExceeded when I start a g5.2xlarge", {"instance": "g5.2xlarge", "provider": "aws"}),
    ("what does a g5.12xlarge cost per hour?", {"instance": "g5.12xlarge", "provider": "aws"}),
    # DeepSpeed settings; a job's memory per GPU is not the card's; "9708M total params"
    (
        "4 * A100-SXM4-40GB, deepspeed zero2, offload_optimizer=cpu, 全参微调 OOM; "
        "Model with 9708M total params, 18.08GB per GPU",
        {
            "zero_stage": 2,
            "offload_optimizer": True,
            "device_memory_gb": None,
            "params_b": 9.708,
            "num_accelerators": 4,
        },
    ),
    ("10g vram on a 3090 ... I also tried on rtx 4090", {"accelerator": "rtx-3090"}),
    (
        "Mixtral AWQ on a 3090 with --gpu-memory-utilization 0.5 OOMs",
        {"memory_fraction": 0.5, "engine": "vllm"},
    ),
    ("sglang --mem-fraction-static 0.8 on an H100", {"memory_fraction": 0.8}),
    # a DGX box holds eight; memory beside several cards larger than one card is their total
    (
        "96 NVIDIA DGX-A100 (8X40G), how long?",
        {"accelerator": "a100-40gb-sxm", "num_accelerators": 768},
    ),
    ("one DGX H100 node", {"accelerator": "h100-sxm", "num_accelerators": 8}),
    (
        "8x A100 640GB for llama 70b",
        {"accelerator": "a100-80gb-sxm", "num_accelerators": 8, "device_memory_gb": None},
    ),
    ('"Running On-Demand All G and VT instances" is 0', {"provider": "aws"}),
    # a batch of sequences decoded together is throughput, not one stream
    (
        "export GLOBAL_BATCH_SIZE=4 on an L40S: I get 60 tokens/s with llama 3.1 70b, expected?",
        {"batch_size": 4, "workload": "batch_inference", "observed_tokens_per_s": 60},
    ),
    ("vllm --max-batch-size 16 for llama 3.1 8b on an h100", {"batch_size": 16}),
    ("llama 3.1 8b at batch 1 on my 3090", {"batch_size": 1, "workload": "inference"}),
    ("I want to run llama 3.1 8b over a lot of data on 8 H100s", {"workload": "batch_inference"}),
    ("fine-tune llama 3.1 8b with batch size 8", {"batch_size": None, "workload": "full_finetune"}),
    # the memory in brackets after "GPUs"; a method the user rules out is not the workload
    (
        "how many H100 GPUs (80GB) to fully fine-tune llama 3.1 8b? LoRA isn't enough for us",
        {"accelerator": "h100-sxm", "workload": "full_finetune", "method": "full"},
    ),
    (
        "A100 GPUs (40GB): full parameter training of llama 3.1 8b, how many?",
        {"accelerator": "a100-40gb-sxm", "workload": "full_finetune"},
    ),
    ("we use lora, not full fine-tuning, for llama 3.1 8b on an H100", {"workload": "lora"}),
    # GPUs per node first, then the nodes
    (
        "RTX A6000 with 8 GPUs per node, three nodes: NCCL is slow",
        {"accelerator": "rtx-a6000", "num_accelerators": 24},
    ),
    # an Apple chip with more memory than its base model comes with is the bigger variant
    ("a mac studio with an M2 and 96GB, llama 3.1 70b?", {"accelerator": "apple-m2-max"}),
    ("M2 with 192 GB unified memory", {"accelerator": "apple-m2-ultra"}),
    ("M2 with 16 GB unified memory", {"accelerator": "apple-m2"}),
    # "16MB RAM" on a laptop is gigabytes; the exact chip said later wins over the short name
    ("MacBook Pro M2 with 16MB RAM: can it run a 7B?", {"unified_memory_gb": 16}),
    (
        "crash on a MacBook Pro M2. Processor: Apple M2 Pro, 32 GB",
        {"accelerator": "apple-m2-pro", "unified_memory_gb": 32},
    ),
    # a context size in memory is not a context length in tokens
    ("context: 686.00 MB on my 3090", {"context_tokens": None}),
    # "I have 8GB" in a question about VRAM that names no card is that card's memory
    (
        "Insufficient VRAM for model and cache, I have 8GB; is that not enough for llama 3.1 8b?",
        {"device_memory_gb": 8},
    ),
    ("I have 64GB and the VRAM of my 4090 is full", {"device_memory_gb": None}),
    # a long-context build named by its window is loaded at it
    ("loading Llama-2-7B-32K-Instruct-GPTQ fails", {"context_tokens": 32768}),
    # platforms are read when no engine is named; an engine named beside one wins
    ("sky launch --use-spot fails for an H100 on RunPod", {"engine": "skypilot"}),
    ("llama.cpp on an EKS node with an A10G", {"engine": "llama.cpp"}),
    ("./main -m starchat-ggml-q4_0.bin with ggml on 16 threads", {"engine": "ggml"}),
    # other sizes of the family named beside the model; sizes inside names are not sizes
    (
        "how much VRAM do llama 3.1 8b and 70b need?",
        {"model": "llama-3.1-8b", "other_models": ["llama-3.1-70b"]},
    ),
    ("llama 2 13/70b on two 3090s", {"other_models": ["llama-2-13b"]}),
    ("mixtral 8x7b on my 3090 at 4-bit", {"other_models": None}),
    ("a 7B or a 30B on my 4090?", {"params_b": 7.0, "other_models": [30.0]}),
    # a desktop CPU named as what it runs on, with no GPU word, is a CPU-only machine
    ("running on an Intel i7-12700K with 32 GB RAM: llama 3.1 8b speed?", {"cpu_only": True}),
    ("llama 3.1 8b on my Ryzen 9 with an RTX 3090", {"cpu_only": None}),
    # "4060 Ti" is not a 4060; sold in two sizes, the bare name takes the larger unless said
    ("can my 4060 ti run llama 3.1 8b?", {"accelerator": "rtx-4060-ti-16gb"}),
    ("my 4060 ti 8gb and llama 3.1 8b", {"accelerator": "rtx-4060-ti-8gb"}),
    ("my 4060 and llama 3.1 8b", {"accelerator": "rtx-4060"}),
    # a launch setting gives the GPU count when no card is named
    ("vllm --tensor-parallel-size=4 for llama 3.1 8b is slow", {"num_accelerators": 4}),
]


@pytest.mark.parametrize(("question", "expected"), ROUTES, ids=[q[:40] for q, _ in ROUTES])
def test_routing_table(router, question, expected):
    spec = router.route(question)
    got = {k: getattr(spec, k) for k in expected}
    assert got == expected


KINDS = [
    # phrasings from the December 2026 sweep of unread kinds
    ("Is it possible to learn with 4 x RTX A6000 GPUs?", "fit"),
    ("Is there any way to finetune the MPT-7B model with dual RTX 3090's?", "fit"),
    ("24GB可以调70b模型吗？", "fit"),
    ("One RTX 3090, 88 hours, is this normal?", "duration"),
    ("Estimated time for SFT fine-tuning of Mistral-7B on 8xA100?", "duration"),
    ("请问该模型在千卡集群上训练了多久啊?", "duration"),
    ("在Cloud TPU v3-256 上训练了24小时要花费多少美元？", "cost"),
    ("I have a 4090. Should I switch to dual-3090 with nvlink?", "choose"),
    ("How is peak memory per GPU lower for full finetune compared to LoRA?", "explain"),
    ("how many V100 32G did you use?", "capacity"),
    ("how many users can one H100 serve?", "capacity"),
    ("每秒钟可以处理多少个token？", "speed"),
    ("it takes ~1 minute for the transcription of a short mp3 on CPU", "speed"),
    ("getting Insufficient Memory on M2-Ultra 64GB RAM", "troubleshoot"),
    ("Will one H100 be sufficient for Qwen2 72B?", "fit"),
    ("is an RTX 4090 enough for llama 3.1 8b?", "fit"),
    ("cpu-only inference for a small llm - is xeon amx good enough?", None),
    ("How fast will Mistral 7B Q4_K_M run on an RTX 4060 8GB?", "speed"),
    ("can I run llama 3 70b on my 4090?", "fit"),
    ("will it fit in 24 GB?", "fit"),
    ("how much VRAM does qwen 14b need?", "fit"),
    ("torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", "troubleshoot"),
    ("training time too long and GPU-Util too low, possibly due to file i/o", "troubleshoot"),
    ("Why is the inference so slow on my RTX 4090? Is it normal?", "speed"),
    ("why is decode slower than prefill?", "explain"),
    ("is llama.cpp supporting model parallelism? I have two V100 gpus", "explain"),
    ("405B in fp8 on 8 A100s: is there a way to run it?", "fit"),
    ("is 12 tokens/s normal for a 3090?", "speed"),
    ("how long to fine-tune a 7B on 1B tokens with 8 H100s?", "duration"),
    ("how many H100s to serve 50 requests per second?", "capacity"),
    ("what does 3 years of 8xH100 cost bought vs rented?", "cost"),
    ("which GPU should I buy for local LLMs?", "choose"),
    ("ZONE_RESOURCE_POOL_EXHAUSTED when creating an a2 instance", "availability"),
    ("what is the KV cache?", "explain"),
    ("training a 7B model on 2T tokens: how many H100 hours?", "duration"),
    ("how many H100s to train a 7B model in a week?", "capacity"),
    # a reported speed asked about as normal, in Chinese, though it also says "可以跑通"
    ("可以跑通,但decode速度 0.1 tokens/s 都不到,正常吗", "speed"),
    ("3090 单卡可以在本地推理 llama13B 的 4-bit量化模型吗？", "fit"),
]


@pytest.mark.parametrize(("question", "kind"), KINDS)
def test_question_kind_rules(question, kind):
    assert u.question_kind(question.lower()) == kind


FORMATS = [
    ("llama-2-13b.Q4_K_M.gguf", "q4_k_m"),
    ("iq4_xs quant", "iq4_xs"),
    ("4.65bpw exl2", "exl2-4.65"),
    ("exl2 at 3.0", "exl2-3"),
    ("load_in_4bit=True", "nf4"),
    ("gpt-oss in mxfp4", "mxfp4"),
    ("a GPTQ checkpoint", "gptq"),
    ("without GPTQ, in fp16", "fp16"),
    ("Q4 gguf", "q4_0"),
    ("4-bit", "int4"),
    ("nothing about the format here", None),
    ("llama-2 7b without quantization", "fp16"),
    ("eval time 9.61 ms (13B_q4_K_M)", "q4_k_m"),  # glued to the size with an underscore
    ("each parameter takes 4 bytes", "fp32"),
    ("2 bytes per parameter", "fp16"),
    ("4 bytes of RAM per token", None),
    # llama.cpp's i-quants and Unsloth's dynamic quants; a stated average with a fraction wins
    ("DeepSeek-R1-UD-IQ1_S", "iq1_s"),
    ("an IQ2_XXS gguf", "iq2_xxs"),
    ("Qwen3-32B-UD-Q2_K_XL.gguf", "q2_k"),
    ("DeepSeek-R1-UD-Q2_K_XL (2.51bit)", "2.51bit"),
    ("the 1.58-bit quant", "1.58bit"),
]


@pytest.mark.parametrize(("text", "fmt"), FORMATS)
def test_weight_formats(text, fmt):
    assert u.weight_dtype(text.lower()) == fmt


def test_kv_cache_precision_is_not_read_as_weights():
    text = "llama 70b q4_k_m with --cache-type-k q8_0"
    assert u.kv_dtype(text) == "q8_0"
    assert u.weight_dtype(u.strip_kv_mentions(text)) == "q4_k_m"


def test_topic_query_drops_names_keeps_topic(router):
    q = "can I run llama 2 70b on two 3090s at q4_k_m?"
    query = router.topic_query(q, router.route(q))
    assert "llama 2" not in query.lower() and "70b" not in query.lower() and "3090" not in query
    assert "GPU memory" in query
    # where it runs adds its vocabulary: two owned 3090s are a local llama.cpp-style setup,
    # a Mac its Metal share, vLLM its serving settings
    assert "-ngl" in query
    mac = "can I run llama 2 13b on my macbook with 32gb of unified memory?"
    assert "recommendedMaxWorkingSetSize" in router.topic_query(mac, router.route(mac))
    served = "does llama 3.1 70b fit on 4 h100s with vllm?"
    assert "gpu_memory_utilization" in router.topic_query(served, router.route(served))
    # several GPUs slower than one: the split is the topic, in any language
    for slow in (
        "llama 3.1 8b on 8 A100s is much slower than on one, why?",
        "8张A100推理llama 3.1 8b，速度严重变慢",
    ):
        assert "device_map" in router.topic_query(slow, router.route(slow))
    one = "llama 3.1 8b on one A100 is very slow"
    assert "device_map" not in router.topic_query(one, router.route(one))


def test_a_troubleshooting_topic_follows_the_symptom(router):
    """Out of memory retrieves on memory, slowness on speed; another error keeps its own
    words, and a precision format is never dropped as a name."""
    oom = "llama 3.1 8b on my 3090 gives CUDA out of memory"
    assert "out of memory" in router.topic_query(oom, router.route(oom))
    slow = "FP8 on my 3090 slows down llama 3.1 8b inference"
    query = router.topic_query(slow, router.route(slow))
    assert "tokens per second" in query and "FP8" in query and "out of memory" not in query
    error = "FlashAttention only supports Ampere GPUs or newer: error on my T4 with llama 3.1 8b"
    assert router.topic_query(error, router.route(error)) == error


def test_absurd_digit_runs_are_clipped_before_the_number_patterns(router):
    """A pasted 20,000-digit run once made the number regexes quadratic (96 s); it is cut to
    12 characters first, and ordinary numbers are untouched."""
    from advisor.route import clip_long_numbers

    assert clip_long_numbers("1" * 20000 + "b") == "1" * 12 + "b"
    assert (
        clip_long_numbers("1," * 10000).startswith("1,1,1,1,1,1,")
        and len(clip_long_numbers("1," * 10000)) == 12
    )
    assert clip_long_numbers("2T tokens, 1,000,000 requests, 3.35 TB/s") == (
        "2T tokens, 1,000,000 requests, 3.35 TB/s"
    )
    spec = router.route("1" * 20000 + " tokens on 8x h100")
    assert spec.num_accelerators == 8


@pytest.mark.parametrize(
    ("question", "acc", "chips"),
    [
        ("TPU v3-8 is slower than my Titan V", "tpu-v3", 4),  # 8 TensorCores, two per chip
        ("can I fine-tune llama 3 8b on a v4-8 TPU", "tpu-v4", 4),
        ("gemma on a v6e-16 TPU slice", "tpu-v6e", 16),  # v5e/v6e names count chips
        ("TPU v2-8 on colab", "tpu-v2", 4),  # v2 names count TensorCores too
    ],
)
def test_tpu_slice_names(catalog, question, acc, chips):
    spec = Router(catalog).route(question)
    assert (spec.accelerator, spec.num_accelerators) == (acc, chips)


@pytest.mark.parametrize(
    "q, cpu",
    [
        ("How fast is llama 3 8b q4_k_m on an Intel Core Ultra 7 255H?", True),
        ("llama.cpp speed on a Xeon Gold 6338 for a 70b model", True),
        ("whisper on a c5.xlarge is slow", True),
        ("EPYC 9654 with 12-channel DDR5, how fast is deepseek r1?", True),
        ("Ryzen 9 7950X and an RTX 4090: can I run a 70b?", False),  # the GPU is the device
        ("is a g5.xlarge enough for llama 8b?", False),  # a GPU instance
    ],
)
def test_a_named_cpu_product_without_a_gpu_means_cpu_only(q, cpu):
    assert u.cpu_only(q) is cpu


@pytest.mark.parametrize(
    "q, gb",
    [
        ("我只有一张48G的显卡，请问如何才能推理72B的模型", 48),
        ("ran out of VRAM on my 24GB card. I suspect, will need at least 32GB of VRAM", 24),
        ("need at least 32GB of VRAM? I have a 16GB card", 16),
        ("a 24GB card", 24),
    ],
)
def test_device_memory_is_what_the_user_has_not_what_is_needed(q, gb):
    from advisor.route import space_scripts

    assert u.device_memory_gb(space_scripts(q)) == gb


@pytest.mark.parametrize(
    "q, gb",
    [
        ("微调llama3-8B需要多大的显存呢 [fp16精度下20G也能够吗]", 20),
        ("is 24GB enough for a 70b? how much vram", 24),
        ("how much vram does a 70b need?", None),
    ],
)
def test_an_amount_asked_about_in_a_vram_question_is_the_cards_memory(q, gb):
    from advisor.route import space_scripts

    assert u.unnamed_gpu_memory_gb(space_scripts(q)) == gb


@pytest.mark.parametrize(
    "name, dtype",
    [
        ("Pygmalion-13b-4bit-128g.safetensors", "gptq"),
        ("Qwen-14B-Chat-Int4", "gptq"),
        ("llama-13b-4bit-128", "gptq"),
        ("I quantized it to int4", "int4"),
        ("a 4-bit model", "int4"),
    ],
)
def test_gptq_is_read_from_its_naming_conventions(name, dtype):
    assert u.weight_dtype(name) == dtype


@pytest.mark.parametrize(
    "q, kind, workload",
    [
        ("How much GPU mem needed for 7B model?", "fit", None),
        ("72B-4bit模型部署至少需要多少G的卡", "fit", "inference"),
        ("请问如果想训练72b的模型，大概需要多少显存呢", "fit", "full_finetune"),
        ("有限的显存怎么部署72B模型", "fit", "inference"),
    ],
)
def test_memory_questions_in_chinese_and_shorthand(q, kind, workload):
    from advisor.route import space_scripts

    t = space_scripts(q)
    assert u.question_kind(t) == kind
    assert u.workload(t) == workload


@pytest.mark.parametrize(
    "q, others",
    [
        ("How much training resources are needed for 76B fine-tuning", ["full", "lora"]),
        ("请问如果想训练72b的模型，大概需要多少显存呢", ["full", "lora"]),
        ("memory to LoRA fine-tune llama 3 8b", None),  # a method named: that one
        ("full fine-tune llama 3 8b on 8 H100s", None),
    ],
)
def test_a_bare_fine_tune_sizes_both_methods(q, others):
    spec = Router(load_catalog()).route(q)
    assert spec.other_methods == others


@pytest.mark.parametrize(
    "q, workload",
    [
        ("Model: alpaca-lora-65B.ggml.q5_1.bin on DDR4, is DDR5 required?", "inference"),
        ("how do I train a lora adapter for llama 3 8b?", "lora"),
        ("fine-tune with lora on a 3090", "lora"),
    ],
)
def test_lora_inside_a_model_files_name_is_not_lora_training(q, workload):
    assert u.workload(q) == workload


@pytest.mark.parametrize(
    "q",
    [
        "it takes 60 seconds to respond with llama 3 8b on my A100",
        "用一张A100 显卡跑的7B模型，80G显存用了10G，要60秒才返回结果",
        "A100显卡推理速度慢，只有5-6token/s 有什么方法可以提升推理效率吗？",
        "I'm only getting 3 tokens/s with a 13b on my 3060",
    ],
)
def test_a_reported_slow_speed_is_a_speed_complaint(q):
    from advisor.route import space_scripts

    t = space_scripts(q)
    assert u.question_kind(t) == "speed"
    assert u.reports_slow(t)


@pytest.mark.parametrize(
    "q, tokens",
    [
        ("SFT of Mistral-7B on 60,000 entries, 8xA100, num_train_epochs: 3. How long?", 180e6),
        ("用8张A100微调qwen 7b，10000条数据，3个epoch，要多久", 30e6),
        ("fine-tune llama 3 8b on 50k examples on 4 H100s, how long?", 50e6),
        ("python finetune.py --num_epochs=10 on 2000 samples with a 3090", 20e6),
    ],
)
def test_examples_times_epochs_become_training_tokens(q, tokens):
    spec = Router(load_catalog()).route(q)
    assert spec.tokens == pytest.approx(tokens)


def test_how_long_in_chinese_is_a_duration_question():
    from advisor.route import space_scripts

    assert u.question_kind(space_scripts("用8张A100微调7b模型，要多久")) == "duration"


@pytest.mark.parametrize(
    "q, provider, gpu",
    [
        ("there are NCv3 cores available but the portal only allows quota for NC", "azure", "v100"),
        ("NC series greyed out when creating a VM", "azure", "k80"),
        ("a2-highgpu not available in my zone", "gcp", "a100"),
    ],
)
def test_a_vm_series_named_gives_its_provider_and_gpu(q, provider, gpu):
    spec = Router(load_catalog()).route(q)
    assert spec.provider == provider
    assert spec.accelerator is not None and spec.accelerator.startswith(gpu)


def test_a_two_letter_series_needs_the_word_series():
    spec = Router(load_catalog()).route("how do I nc into the box and check nvidia-smi?")
    assert spec.accelerator is None


@pytest.mark.parametrize(
    "q, card, count",
    [
        (
            "I saw you used 8 A100 40GB GPUs. Is it possible to learn with 4 x RTX A6000 GPUs?",
            "rtx-a6000",
            4,
        ),
        (
            "Can I fine tune Yi-34B with 8 3090ti(24G)? There is no channel to get a100 now",
            "rtx-3090-ti",
            8,
        ),
        ("I have a 3050 but I might buy a 4090", "rtx-4090", None),
    ],
)
def test_the_card_asked_about_is_not_the_one_someone_else_used(q, card, count):
    spec = Router(load_catalog()).route(q)
    assert spec.accelerator == card
    assert spec.num_accelerators == count


@pytest.mark.parametrize(
    "q",
    [
        "using an instance of type m7i.metal-24xl, Xeon 8488C, 48 cores: 45 ms/token",
        "ultra5 125H/ultra7 255H 在不同版本ollama/llama-cpp上的推理速度",
    ],
)
def test_cpu_machines_named_by_instance_or_glued_model_number(q):
    from advisor.route import space_scripts

    assert u.cpu_only(space_scripts(q))


@pytest.mark.parametrize(
    "q, ctx",
    [
        ("python finetune.py --cutoff_len=512 --num_epochs=10", 512),
        ("koboldcpp --gpulayers 60 --contextsize 8192", 8192),
        ("full param with 4096 context length works on 32 A10s?", 4096),
        ("context: 686.00 MB", None),  # a size in memory, not a window
    ],
)
def test_context_windows_from_training_and_engine_settings(q, ctx):
    assert u.context_setting(q) == ctx


def test_only_system_ram_named_means_the_cpu():
    r = Router(load_catalog())
    assert r.route("I'm running RWKV 14B on 12 gigs of System RAM").cpu_only
    assert not r.route("I have 32GB RAM and an RTX 3060, can I run 13b").cpu_only


@pytest.mark.parametrize(
    "q, kind",
    [
        ("现在想本地化部署qwen2-72b-instruct-int4-gptq 请问下4张4090够吗", "fit"),
        ("so i need atleast 129G GPU memory or more for the 70b?", "fit"),
        ("how to train llama2-7b in a100 80G gpu?", "fit"),
        ("How much training resources are needed for 76B fine-tuning", "capacity"),
        ("8*4090的机器上的并发人数？", "capacity"),
        (
            "ValueError: Total number of attention heads (52) must be divisible by tp size",
            "troubleshoot",
        ),
        ("No Option for Regional CPU core Increase", "availability"),
    ],
)
def test_more_question_kinds_people_write(q, kind):
    from advisor.route import space_scripts

    assert u.question_kind(space_scripts(q)) == kind


def test_memory_written_beside_another_card_is_not_the_asked_cards():
    spec = Router(load_catalog()).route(
        "I saw you used 8 A100 40GB GPUs. Is it possible to learn with 4 x RTX A6000 GPUs?"
    )
    assert spec.accelerator == "rtx-a6000" and spec.device_memory_gb is None
