"""What every price feed reader returns, and how a feed is opened (file or URL).

A reader (``feed_skypilot``, ``feed_aws``, ``feed_azure``, ``feed_gcp``) turns one public
price feed into :class:`FeedRow` s: one instance type in one region with the figures the feed
gives, USD per instance-hour, and the feed line it came from. Readers know their format;
deciding what is new, changed or removed against the catalog is :mod:`.priceimport`'s job.
A malformed feed raises :class:`~advisor.tools.errors.FeedError` (``file:line: ...``).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .errors import FeedError, InvalidInputError
from .schema import Accelerator, Instance, Region

URL_TIMEOUT_S = 60


@dataclass(frozen=True)
class FeedRow:
    """One instance type in one region, as one feed prices it (USD per instance-hour)."""

    instance_type: str
    region: str
    line: int
    on_demand: float | None = None
    spot: float | None = None
    commit_1y: float | None = None
    commit_3y: float | None = None
    # what a new catalog row would need; a reader fills what its feed gives
    accelerator_id: str | None = None  # an id in accelerators.yaml, resolved by the reader
    accelerator_count: int | None = None
    vcpus: int | None = None
    ram_gb: float | None = None
    local_storage_gb: float | None = None
    local_storage_type: str | None = None
    # why this row cannot become a new catalog row (the feed lacks something), if it cannot
    blocker: str | None = None
    # how a computed price was formed (GCP prices an instance by its parts)
    detail: str | None = None


@dataclass(frozen=True)
class Skip:
    """Feed rows that were read but not used, and why (``count`` rows, first at ``line``)."""

    instance_type: str
    reason: str
    region: str | None = None
    line: int | None = None
    count: int = 1


@dataclass(frozen=True)
class Context:
    """What a reader may look at in the catalog: one provider's rows and the accelerators."""

    provider: str
    instances: tuple[Instance, ...]
    regions: tuple[Region, ...]
    accelerators: dict[str, Accelerator]

    def instance(self, name: str) -> Instance | None:
        return next((i for i in self.instances if i.name == name), None)


@dataclass
class Feed:
    """One feed, read: its rows and what it says about itself."""

    source: str  # skypilot | aws | azure | gcp
    provider: str
    where: str  # the file or URL as given
    title: str  # for the catalog rows' sources
    url: str  # the public URL the catalog rows cite
    as_of: dt.date | None  # the date the feed itself carries, if any
    as_of_from: str  # where that date came from ("publicationDate", ...)
    rows: list[FeedRow]
    records: int  # records read (CSV rows, JSON items or products)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the feed does not cover
    # the catalogued instances this feed could price ("removed" is only said of these)
    covers: Callable[[Instance], bool] = lambda _inst: True
    # a sentence for the notes of rows whose prices this feed computes (rather than lists)
    price_note: str | None = None


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


@contextmanager
def open_text(location: str, *, newline: str | None = None) -> Iterator[TextIO]:
    """A feed as text: a local file, or a URL fetched with a timeout (when online)."""
    if is_url(location):
        try:
            resp = urllib.request.urlopen(location, timeout=URL_TIMEOUT_S)  # noqa: S310 - http(s) only
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise FeedError(location, None, f"could not fetch: {exc}") from None
        with resp:
            yield io.TextIOWrapper(resp, encoding="utf-8", newline=newline)
        return
    path = Path(location)
    if not path.is_file():
        raise InvalidInputError(f"No such feed file: {location}.", hint="check the path.")
    with path.open(encoding="utf-8", newline=newline) as fh:
        yield fh


def number(text: object, what: str, where: str, line: int | None) -> float | None:
    """A price or size from a feed: None when empty; a FeedError when not a finite number >= 0."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, bool):
        raise FeedError(where, line, f"{what}: {text!r} is not a number")
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FeedError(where, line, f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise FeedError(where, line, f"{what}: {text!r} is not a price or size (finite, >= 0)")
    return value


def whole(value: float | None) -> int | None:
    """A count from a feed that writes counts as floats ("8.0"); None when not whole."""
    if value is None or value != int(value):
        return None
    return int(value)


def parse_date(text: object) -> dt.date | None:
    """The date part of an ISO timestamp ("2026-11-30T18:34:52Z"), or None."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def cheaper(a: float | None, b: float | None) -> float | None:
    """The lower of two optional prices (zones of one region, duplicate meters)."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
