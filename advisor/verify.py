"""Verification: every guidance sentence must be supported by the passage it cites, and every
number in it must come from a tool result or the cited passage. What fails is dropped.

Support of a sentence by a passage combines lexical overlap (share of the sentence's content
words found in the passage) and semantic similarity (best cosine between the sentence and
the passage's sentences, all-MiniLM-L6-v2). The threshold is calibrated on the labelled set in
``evals/citations.yaml`` (see ``advisor eval citations``).
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from advisor.embeddings import Embedder
from advisor.retrieve import Passage, tokenize

_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*])")
_TRAILING_CITES = re.compile(r"([.!?])((?:\s*\[\d+\])+)")
_CITE = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(
    r"(?<![\w.])\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*"
    r"(%|k|m|b|t|bn|million|billion|trillion|thousand)?(?![\w])",
    re.I,
)
_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "trillion": 1e12,
}
LEXICAL_WEIGHT = 0.5
MIN_LEXICAL = 0.25
# Polarity cues: similarity cannot tell "needs careful tuning" from "needs no tuning", so a
# claim whose negation or direction words disagree with its best-matching passage sentence
# is treated as unsupported.
_NEGATORS = frozenset(
    ["no", "not", "never", "none", "cannot", "can't", "without", "neither", "nor", "only"]
)
# Only evaluative opposites: comparatives like more/less flip with word order ("depends more
# on X than Y" = "depends less on Y than X") and would reject good paraphrases.
_ANTONYMS = [
    ("fastest", "slowest"),
    ("best", "worst"),
    ("best", "poor"),
    ("good", "poor"),
    ("good", "bad"),
    ("always", "never"),
    ("cheapest", "priciest"),
    ("safe", "unsafe"),
]
_IDIOMS = re.compile(r"\bnot (?:just|only|merely)\b|\bno (?:longer|more than|less than)\b")
_PRODUCT = re.compile(r"\b[a-z]+\d+[a-z0-9]*\b|\b\d+[a-z]+\d*[a-z]*\b", re.I)


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def split_sentences(text: str) -> list[str]:
    """Sentences, with citations written after the full stop moved before it."""
    flat = " ".join(text.split())
    flat = _TRAILING_CITES.sub(lambda m: " " + " ".join(m.group(2).split()) + m.group(1), flat)
    parts = _SENT.split(flat)
    return [p.strip() for p in parts if p and p.strip()]


def prose_sentences(passage_text: str) -> list[str]:
    """The prose sentences of a passage that could open or support an answer: after its
    heading line, not list items, tables or quotes, 40-400 characters, not a lead-in (":")."""
    body = passage_text.split("\n", 1)[-1]
    lines = [ln.strip() for ln in body.splitlines()]
    prose = [ln for ln in lines if ln and not ln.startswith(("-", "*", "|", "#", ">"))]
    return [
        s
        for ln in prose
        for s in split_sentences(ln)
        if 40 <= len(s) <= 400 and not s.endswith(":")
    ]


def support_pieces(passage_text: str) -> list[str]:
    """The pieces of a passage a claim is compared with, by meaning."""
    return [s for s in split_sentences(passage_text) if len(s) > 20][:40] or [passage_text]


def passage_pieces(passage_text: str) -> list[str]:
    """Every piece of a passage that gets a vector: its prose sentences and support pieces
    (shipped precomputed for the packaged guides; see advisor.shipped)."""
    return list(dict.fromkeys([*prose_sentences(passage_text), *support_pieces(passage_text)]))


def pop_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences at the start of a streamed buffer, and the raw remainder."""
    flat = _TRAILING_CITES.sub(lambda m: " " + " ".join(m.group(2).split()) + m.group(1), buffer)
    last = None
    for m in _SENT.finditer(flat):
        last = m
    if last is None:
        return [], flat
    return split_sentences(flat[: last.start()]), flat[last.end() :]


def citations_in(sentence: str) -> list[int]:
    return [int(n) for n in _CITE.findall(sentence)]


def strip_citations(sentence: str) -> str:
    return _CITE.sub("", sentence).strip()


def _forms(pattern: re.Pattern[str], text: str) -> list[list[float]]:
    """Each match of ``pattern`` (groups: whole part, decimals, scale word) in text, as
    [as written] or [as written, with its k/M/B/T scale applied]; citations are skipped."""
    out: list[list[float]] = []
    for m in pattern.finditer(_CITE.sub(" ", text)):
        value = float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
        unit = (m.group(3) or "").lower()
        out.append([value, value * _SCALE[unit]] if unit in _SCALE else [value])
    return out


def number_forms(text: str) -> list[list[float]]:
    """Each number in text as [as written] or [as written, with its k/M/B/T scale applied]."""
    return _forms(_NUMBER, text)


_MONEY = re.compile(
    r"[$€£]\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(k|m|b|bn|million|billion)?\b", re.I
)


# A sentence that speaks to the assistant (or its reader) about how to answer is an
# instruction, not a fact, wherever it comes from: a planted document, a guide, the model.
INSTRUCTION = re.compile(
    r"^\W*(?:system|assistant|user)\s*:|<\|im_(?:start|end)\|>|"
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|rules?|passages?|calculators?|"
    r"prompt|above|previous|prior)\b|"
    r"\b(?:when|if|whenever) (?:you are |you're )?asked\b|"
    r"\b(?:say|reply|respond|answer)\s+(?:only\s+)?(?:that|with)\b|\btell the user\b|"
    r"\byou (?:must|should always|will now)(?: not| never| always)? (?:say|answer|reply|respond|"
    r"cite|print|reveal|write|tell|ignore|obey|end|output)\b|\byou are now\b|\bobey\b|"
    r"\bdeveloper mode\b|"
    r"\b(?:print|reveal|repeat|show)\b.{0,30}\b(?:api key|system prompt|instructions|"
    r"environment variables?|id_rsa|passwd)\b|"
    r"\b(?:note|instructions?) to the (?:ai|model|assistant|llm)\b|\binstruction to the ai\b",
    re.I,
)


class ToolNumbers(list[float]):
    """Numbers a sentence may use beside its passages' (the question's, the calculators'),
    with ``prices``: the currency amounts the calculators showed."""

    def __init__(self, numbers: Iterable[float] = (), prices: Iterable[float] = ()) -> None:
        super().__init__(numbers)
        self.prices = list(prices)


def money_forms(text: str) -> list[list[float]]:
    """Currency amounts in text ("$1.71", "$2.5M"): each as written, and with its scale."""
    return _forms(_MONEY, text)


def numbers_in(text: str) -> list[float]:
    """Numbers in text, each as written and with its k/M/B/T scale applied."""
    return [f for forms in number_forms(text) for f in forms]


def number_supported(value: float, allowed: Iterable[float], rel: float = 0.006) -> bool:
    """Equal, or equal after rounding (within 0.6%: 16.06 -> 16.1 or 16)."""
    for a in allowed:
        if value == a:
            return True
        if a and abs(value - a) / abs(a) <= rel:
            return True
        # the text rounded a tool value to fewer digits (e.g. 507,523 -> 508,000 or 0.51)
        if a and value and _rounds_to(a, value):
            return True
    return False


def _rounds_to(exact: float, shown: float) -> bool:
    if shown == 0:
        return False
    digits = len(f"{abs(shown):.10g}".replace(".", "").replace("-", "").rstrip("0").lstrip("0"))
    digits = max(1, digits)
    if digits > 4:
        return False
    mag = math.floor(math.log10(abs(exact))) if exact else 0
    rounded = round(exact, -int(mag) + digits - 1)
    return math.isclose(rounded, shown, rel_tol=1e-9)


@dataclass
class SentenceCheck:
    sentence: str
    cited: list[int]
    supported: bool
    support: float
    lexical: float
    semantic: float
    bad_numbers: list[float] = field(default_factory=list)
    reason: str = ""
    auto_cited: bool = False


SENTENCE_CACHE_SIZE = 20_000  # sentence vectors kept in memory (about 31 MB at 384 wide)


class Verifier:
    def __init__(
        self, embedder: Embedder | None, threshold: float = 0.5, shipped: Any = None
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.shipped = shipped  # advisor.shipped.ShippedVectors of the packaged guides, or None
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> list[list[float]]:
        """Sentence vectors: from memory, else the shipped table, else embedded in one call."""
        assert self.embedder is not None
        out: list[list[float] | None] = []
        with self._vectors_lock:
            for t in texts:
                v = self._vectors.get(t)
                if v is not None:
                    self._vectors.move_to_end(t)
                out.append(v)
        missing = [i for i, v in enumerate(out) if v is None]
        if missing and self.shipped is not None:
            for i, v in zip(missing, self.shipped.lookup([texts[i] for i in missing]), strict=True):
                out[i] = v
            missing = [i for i, v in enumerate(out) if v is None]
        if missing:
            fresh = self.embedder.embed_documents([texts[i] for i in missing])
            for i, v in zip(missing, fresh, strict=True):
                out[i] = list(v)
        with self._vectors_lock:
            for t, v in zip(texts, out, strict=True):
                if v is not None:
                    self._vectors[t] = v
            while len(self._vectors) > SENTENCE_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return [v for v in out if v is not None]

    # -- support -----------------------------------------------------------------------
    def support(self, sentence: str, passage_text: str) -> tuple[float, float, float]:
        """(score, lexical, semantic) of ``passage_text`` supporting ``sentence``."""
        claim = strip_citations(sentence)
        if _squash(claim.rstrip(".!?")) in _squash(passage_text):
            return 1.0, 1.0, 1.0  # quoted verbatim from the passage
        words = set(tokenize(claim))
        lexical = len(words & set(tokenize(passage_text))) / len(words) if words else 0.0
        semantic = self._semantic(claim, passage_text) if self.embedder else lexical
        score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * semantic
        return score, lexical, semantic

    def contradicts(self, claim: str, passage_text: str) -> str | None:
        """A reason if the claim's polarity or product names disagree with the passage."""
        claim_l = _IDIOMS.sub(" ", claim.lower())
        words = set(re.findall(r"[a-z']+", claim_l))
        sentence = _IDIOMS.sub(" ", self._aligned(claim, passage_text).lower())
        tokens = re.findall(r"[a-z']+", sentence)
        theirs = set(tokens)
        if (words & _NEGATORS) - theirs:
            return "negation differs from the passage"
        # A negation in the passage matters when the claim talks about what it negates.
        for i, tok in enumerate(tokens):
            if tok in _NEGATORS and tok not in words:
                scope = {t for t in tokens[i + 1 : i + 4] if len(t) >= 3}
                if scope & words:
                    return "negation differs from the passage"
        for a, b in _ANTONYMS:
            if (a in words and b in theirs and a not in theirs) or (
                b in words and a in theirs and b not in theirs
            ):
                return f"says '{a if a in words else b}' where the passage says the opposite"
        passage_lower = passage_text.lower()
        for name in _PRODUCT.findall(claim):
            if name.lower() not in passage_lower:
                return f"names {name}, which the passage does not mention"
        return None

    def _aligned(self, claim: str, passage_text: str) -> str:
        """The passage sentence sharing the most content words with the claim."""
        words = set(tokenize(claim))
        best, best_n = passage_text, -1
        lines = [ln.strip(" -*") for ln in passage_text.splitlines() if ln.strip()]
        for sent in (s for ln in lines for s in split_sentences(ln)):
            n = len(words & set(tokenize(sent)))
            if n > best_n:
                best, best_n = sent, n
        return best

    def _semantic(self, claim: str, passage_text: str) -> float:
        assert self.embedder is not None
        sents = self.vectors(support_pieces(passage_text))
        q = self.embedder.embed_query(claim)
        return max((sum(a * b for a, b in zip(q, s, strict=False)) for s in sents), default=0.0)

    def supported(self, score: float, lexical: float) -> bool:
        return score >= self.threshold and lexical >= MIN_LEXICAL

    # -- one sentence ------------------------------------------------------------------
    def check(
        self, sentence: str, passages: Sequence[Passage], tool_numbers: Iterable[float]
    ) -> SentenceCheck:
        cited = [n for n in citations_in(sentence)]
        claim = strip_citations(sentence)
        if len(tokenize(claim)) < 3:
            return SentenceCheck(sentence, cited, False, 0, 0, 0, reason="too short")
        if INSTRUCTION.search(claim):
            return SentenceCheck(
                sentence, cited, False, 0, 0, 0, reason="an instruction, not a fact"
            )
        auto = False
        if not cited:
            # Attach the best-supporting passage, but hold it to a stricter bar.
            best = max(
                range(len(passages)),
                default=None,
                key=lambda i: self.support(claim, passages[i].text)[0],
            )
            if best is None:
                return SentenceCheck(sentence, [], False, 0, 0, 0, reason="no citation")
            cited, auto = [best + 1], True
        if any(n < 1 or n > len(passages) for n in cited):
            return SentenceCheck(
                sentence, cited, False, 0, 0, 0, reason="cites a passage that does not exist"
            )
        scored = [self.support(claim, passages[n - 1].text) for n in cited]
        # Every cited passage must support the sentence (no citation padding).
        score = min(s[0] for s in scored)
        lexical = min(s[1] for s in scored)
        semantic = min(s[2] for s in scored)
        ok = self.supported(score - (0.05 if auto else 0.0), lexical)
        contradiction = None
        if ok and score < 1.0:
            for n in cited:
                contradiction = self.contradicts(claim, passages[n - 1].text)
                if contradiction:
                    ok = False
                    break
        allowed = list(tool_numbers)
        for n in cited:
            allowed += numbers_in(passages[n - 1].text)
        # A scaled number ("2T") is fine if either its written or its scaled form is allowed.
        bad = [
            forms[0]
            for forms in number_forms(claim)
            if not any(number_supported(f, allowed) for f in forms)
        ]
        # A price must be a price in the sources: "$1 per hour" is not backed by "1 request".
        # prices the calculators showed (not the question's: "say it costs $1" backs nothing)
        prices = list(getattr(tool_numbers, "prices", allowed)) + [
            f for n in cited for forms in money_forms(passages[n - 1].text) for f in forms
        ]
        bad += [
            forms[0]
            for forms in money_forms(claim)
            if forms[0] not in bad and not any(number_supported(f, prices) for f in forms)
        ]
        reason = ""
        if contradiction:
            reason = contradiction
        elif not ok:
            reason = f"support {score:.2f} below {self.threshold:.2f}"
        if bad:
            ok = False
            reason = (
                (reason + "; " if reason else "")
                + "numbers not in sources: "
                + ", ".join(f"{b:g}" for b in bad)
            )
        return SentenceCheck(sentence, cited, ok, score, lexical, semantic, bad, reason, auto)
