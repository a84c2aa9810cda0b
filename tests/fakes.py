"""Fakes for tests: a deterministic hashing embedder (no model download, no torch)."""

from __future__ import annotations

import hashlib
import math
import re
import time

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Bag-of-words feature hashing into 256 dims, L2-normalised. Optional per-call delay."""

    name = "hashing-256"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls = 0

    def _vec(self, text: str) -> list[float]:
        v = [0.0] * 256
        for w in _WORD.findall(text.lower()):
            h = int(hashlib.md5(w.encode()).hexdigest()[:8], 16)
            v[h % 256] += 1.0 if (h >> 9) & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


class ScriptedLLM:
    """Returns queued replies in order (streamed in small pieces), records the prompts."""

    name = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[list[dict[str, str]]] = []

    def enqueue(self, reply: str) -> None:
        self.replies.append(reply)

    def stream(self, messages, max_tokens):
        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else ""
        for i in range(0, len(reply), 7):
            yield reply[i : i + 7]


class BrokenLLM:
    """A backend that is down."""

    name = "broken"

    def stream(self, messages, max_tokens):
        from advisor.llm import LLMUnavailable

        raise LLMUnavailable("connection refused (fake)")
        yield ""  # pragma: no cover
