"""Curated guides: parse and validate front matter, split into header-aware chunks.

A guide is ``knowledge/guides/<id>.md`` with YAML front matter (id, title, topics, stages,
sources, reviewed) and a Markdown body that opens with a short summary. A malformed guide is
reported with its path and skipped; the others still load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

Stage = Literal["data", "training", "inference"]


class GuideSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    url: HttpUrl
    read: dt.date | None = None


class GuideMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: str = Field(min_length=3)
    topics: list[str] = Field(min_length=1)
    stages: list[Stage] = Field(default_factory=list)
    sources: list[GuideSource] = Field(min_length=1)
    reviewed: dt.date


@dataclass(frozen=True)
class Guide:
    meta: GuideMeta
    body: str
    path: Path
    user_supplied: bool = False

    @property
    def content_hash(self) -> str:
        data = self.meta.model_dump_json() + "\n" + self.body
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]

    @property
    def summary(self) -> str:
        """The first paragraph after the title: the guide's stand-alone short answer."""
        for block in re.split(r"\n\s*\n", self.body):
            text = block.strip()
            if text and not text.startswith("#"):
                return " ".join(text.split())
        return ""


@dataclass(frozen=True)
class Chunk:
    """One indexed passage with the metadata citations need."""

    id: str
    text: str
    doc_id: str
    title: str
    section: str
    source_urls: tuple[str, ...]
    stages: tuple[str, ...]
    topics: tuple[str, ...]
    user_supplied: bool
    content_hash: str
    n_chunks: int
    position: int

    def metadata(self) -> dict[str, str | int | bool]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "source_urls": "\n".join(self.source_urls),
            "stages": "," + ",".join(self.stages) + ",",
            "topics": "," + ",".join(self.topics) + ",",
            "user_supplied": self.user_supplied,
            "content_hash": self.content_hash,
            "n_chunks": self.n_chunks,
            "position": self.position,
        }


@dataclass
class LoadReport:
    guides: list[Guide] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class GuideError(ValueError):
    pass


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built


def packaged_guides_dir() -> Path:
    return Path(str(resources.files("advisor.knowledge").joinpath("guides")))


def parse_guide(path: Path) -> Guide:
    """Parse one guide; raises GuideError naming the path and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GuideError(f"{path}: cannot read: {exc}") from exc
    match = _FRONT.match(text)
    if not match:
        raise GuideError(f"{path}: missing YAML front matter between '---' lines")
    try:
        raw = yaml.load(match.group(1), Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise GuideError(f"{path}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise GuideError(f"{path}: front matter must be a mapping")
    try:
        meta = GuideMeta.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise GuideError(f"{path}: bad front matter: {problems}") from exc
    if meta.id != path.stem:
        raise GuideError(f"{path}: id {meta.id!r} does not match the file name")
    body = match.group(2).strip()
    if len(body.split()) < 50:
        raise GuideError(f"{path}: body is too short ({len(body.split())} words)")
    return Guide(meta=meta, body=body, path=path)


def load_guides(directory: Path | None = None) -> LoadReport:
    """Load every ``*.md`` guide in ``directory``; bad ones go to ``errors``, not raised."""
    folder = directory or packaged_guides_dir()
    report = LoadReport()
    seen: set[str] = set()
    for path in sorted(folder.glob("*.md")):
        try:
            guide = parse_guide(path)
        except GuideError as exc:
            report.errors.append(str(exc))
            continue
        if guide.meta.id in seen:
            report.errors.append(f"{path}: duplicate guide id {guide.meta.id!r}")
            continue
        seen.add(guide.meta.id)
        report.guides.append(guide)
    return report


def split_guide(guide: Guide, chunk_size: int = 1200) -> list[Chunk]:
    """Split by Markdown headers (title and section path kept), then cap the size."""
    from langchain_text_splitters import (
        MarkdownHeaderTextSplitter,
        RecursiveCharacterTextSplitter,
    )

    header_splitter = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")], strip_headers=True
    )
    size_splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=120, separators=["\n\n", "\n", ". ", " "]
    )
    sections = header_splitter.split_text(guide.body)
    pieces: list[tuple[str, str]] = []
    for doc in sections:
        path = [doc.metadata[h] for h in ("h2", "h3") if h in doc.metadata]
        section = " > ".join(path) if path else "Summary"
        for text in size_splitter.split_text(doc.page_content):
            if text.strip():
                pieces.append((section, text.strip()))
    meta = guide.meta
    h = guide.content_hash
    chunks = []
    for i, (section, text) in enumerate(pieces):
        # The title and section are part of the indexed text: they carry the key terms.
        indexed = f"{meta.title} — {section}\n{text}"
        chunks.append(
            Chunk(
                id=f"{meta.id}:{h}:{i}",
                text=indexed,
                doc_id=meta.id,
                title=meta.title,
                section=section,
                source_urls=tuple(str(s.url) for s in meta.sources),
                stages=tuple(meta.stages),
                topics=tuple(meta.topics),
                user_supplied=guide.user_supplied,
                content_hash=h,
                n_chunks=len(pieces),
                position=i,
            )
        )
    return chunks


_GLOSSARY_LINE = re.compile(r"^- \*\*(?P<term>[^*]+)\*\*\s*\((?P<expansion>[^)]+)\)")


def glossary_expansions(guides: list[Guide]) -> dict[str, str]:
    """Acronym -> expansion from the glossary guide (lines ``- **RoCE** (RDMA over ...):``)."""
    out: dict[str, str] = {}
    for guide in guides:
        if guide.meta.id != "glossary":
            continue
        for line in guide.body.splitlines():
            m = _GLOSSARY_LINE.match(line.strip())
            if m:
                term = m.group("term").strip()
                out[term.lower()] = m.group("expansion").strip()
    return out
