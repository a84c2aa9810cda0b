"""The user's own documents (md, txt, html, pdf), chunked for the ``user_docs`` collection."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

from advisor.errors import InvalidInputError
from advisor.guides import Chunk

SUPPORTED = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
MAX_BYTES = 50 * 1024 * 1024


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title = ""
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._stack.append(tag)
        if tag in ("p", "br", "li", "h1", "h2", "h3", "div", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if any(t in self._SKIP for t in self._stack):
            return
        if self._stack and self._stack[-1] == "title":
            self.title += data.strip()
            return
        self.parts.append(data)


def _read_text(path: Path) -> tuple[str, str, list[tuple[str, str]]]:
    """(title, kind, [(section, text)])."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(str(path))
            pages = [
                (f"Page {n}", page.extract_text() or "")
                for n, page in enumerate(reader.pages, start=1)
            ]
        except (PdfReadError, ValueError, OSError) as exc:
            raise InvalidInputError(f"{path}: cannot read PDF: {exc}") from exc
        return path.stem, "pdf", pages
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise InvalidInputError(
            f"{path}: looks binary, not text.", hint=f"supported: {', '.join(SUPPORTED)}."
        )
    text = raw.decode("utf-8", errors="replace")
    if suffix in (".html", ".htm"):
        parser = _TextExtractor()
        parser.feed(text)
        body = re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts))
        return parser.title or path.stem, "html", [("Document", body)]
    if suffix in (".md", ".markdown"):
        text = re.sub(r"\A---\s*\n.*?\n---\s*\n", "", text, flags=re.S)  # drop front matter
        title = next((ln[2:].strip() for ln in text.splitlines() if ln.startswith("# ")), path.stem)
        from langchain_text_splitters import MarkdownHeaderTextSplitter

        docs = MarkdownHeaderTextSplitter(
            headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")]
        ).split_text(text)
        sections = [
            (
                " > ".join(d.metadata[h] for h in ("h2", "h3") if h in d.metadata) or "Document",
                d.page_content,
            )
            for d in docs
        ]
        return title, "md", sections
    return path.stem, "txt", [("Document", text)]


def document_chunks(path: Path, chunk_size: int = 1200) -> list[Chunk]:
    """Chunks of one user document, marked ``user_supplied``."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    path = path.resolve()
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file.")
    if path.suffix.lower() not in SUPPORTED:
        raise InvalidInputError(
            f"{path}: unsupported file type {path.suffix!r}.",
            hint=f"supported: {', '.join(SUPPORTED)}.",
        )
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInputError(f"{path}: larger than {MAX_BYTES // 2**20} MB.")
    title, _, sections = _read_text(path)
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=120)
    pieces = [
        (sec, t.strip()) for sec, body in sections for t in splitter.split_text(body) if t.strip()
    ]
    if not pieces:
        raise InvalidInputError(f"{path}: no text found.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    doc_id = "user-" + hashlib.sha256(str(path).encode()).hexdigest()[:10]
    return [
        Chunk(
            id=f"{doc_id}:{digest}:{i}",
            text=f"{title} — {sec}\n{text}",
            doc_id=doc_id,
            title=title,
            section=sec,
            source_urls=(path.as_uri(),),
            stages=(),
            topics=("user",),
            user_supplied=True,
            content_hash=digest,
            n_chunks=len(pieces),
            position=i,
        )
        for i, (sec, text) in enumerate(pieces)
    ]


def collect_paths(target: Path) -> list[Path]:
    if target.is_dir():
        return sorted(p for p in target.rglob("*") if p.suffix.lower() in SUPPORTED and p.is_file())
    return [target]
