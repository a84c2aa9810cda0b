"""A Chroma server (``ADVISOR_CHROMA_URL``): every request bounded in time, failures retried.

chromadb's HttpClient waits forever by default (its httpx session has no timeout): a server
that is stopped (SIGSTOP, a hung host) or a packet-dropping network hangs the caller. Here:

* :func:`connect` asks the server's heartbeat first, within ``chroma_timeout_s`` (the
  client's own start-up requests cannot be bounded), then makes the client and gives its
  session that timeout for every later request;
* :func:`call` runs one Chroma operation and retries it ``chroma_retries`` times, waiting
  ``chroma_retry_backoff_s`` and then twice as long each time (with jitter, so that many app
  processes do not reconnect in step), when the server refused the connection, dropped it,
  timed out or answered 502-504 (a proxy in front of it). Every operation the store makes is
  idempotent (get, query, count, upsert, delete by id), so a retry after a dropped answer is
  safe. Then it raises :class:`IndexUnavailableError`, naming the server and the cause.

Anything else (a bad request, a missing collection) is not retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

from advisor.config import Settings
from advisor.errors import AdvisorError, IndexUnavailableError

T = TypeVar("T")
RETRY_STATUS = frozenset({502, 503, 504})
HEARTBEAT = "/api/v2/heartbeat"


def cause(exc: BaseException) -> str | None:
    """Why the server did not answer, in words, or None when ``exc`` is not such a failure."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "the connection was dropped"
    if isinstance(exc, httpx.CloseError | httpx.ProxyError):
        return "the connection failed"
    if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in RETRY_STATUS:
        return f"HTTP {exc.response.status_code}"
    # chromadb turns a refused connection while the client starts into this ValueError
    if isinstance(exc, ValueError) and "could not connect to a chroma server" in str(exc).lower():
        return "connection refused or host unreachable"
    return None


def call(settings: Settings, what: str, fn: Callable[[], T]) -> T:
    """``fn()``, retried on a server that did not answer (see the module docstring)."""
    attempts = settings.chroma_retries + 1
    start = time.monotonic()
    failed = 0
    while True:
        try:
            return fn()
        except AdvisorError:
            raise
        except Exception as exc:
            why = cause(exc)
            if why is None:
                raise
            failed += 1
            if failed == attempts:
                raise unavailable(settings, what, why, attempts, time.monotonic() - start) from exc
        delay = settings.chroma_retry_backoff_s * 2 ** (failed - 1)
        time.sleep(delay * random.uniform(0.5, 1.0))


def unavailable(
    settings: Settings, what: str, why: str, attempts: int, seconds: float
) -> IndexUnavailableError:
    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
    return IndexUnavailableError(
        f"Could not {what}: the Chroma server at {settings.chroma_url} did not answer "
        f"({why}; {tries} in {seconds:.1f} s, {settings.chroma_timeout_s:g} s each at most).",
        hint="start it (`chroma run --path DIR --host HOST --port PORT`) or check "
        "ADVISOR_CHROMA_URL; ADVISOR_CHROMA_TIMEOUT_S and ADVISOR_CHROMA_RETRIES set the wait.",
    )


def connect(settings: Settings) -> Any:
    """A chromadb HttpClient for ``settings.chroma_url`` whose requests time out."""
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    url = urlparse(settings.chroma_url or "")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise AdvisorError(
            f"ADVISOR_CHROMA_URL={settings.chroma_url!r} is not an http(s) URL.",
            hint="use e.g. http://127.0.0.1:8000",
        )
    port = url.port or (443 if url.scheme == "https" else 80)
    timeout = httpx.Timeout(settings.chroma_timeout_s)
    base = f"{url.scheme}://{url.hostname}:{port}"
    beat = httpx.get(base + HEARTBEAT, timeout=timeout)
    if beat.status_code in RETRY_STATUS:
        beat.raise_for_status()  # retried by call()
    if beat.status_code != 200:
        raise AdvisorError(
            f"{base} answered HTTP {beat.status_code} to {HEARTBEAT}: not a Chroma 1.x server?",
            hint="point ADVISOR_CHROMA_URL at `chroma run` (e.g. http://127.0.0.1:8000).",
        )
    client = chromadb.HttpClient(
        host=url.hostname,
        port=port,
        ssl=url.scheme == "https",
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
    )
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):  # a chromadb this was not written for
        raise AdvisorError(
            "This chromadb's HttpClient has no httpx session to bound in time.",
            hint="install the chromadb version pinned in constraints.txt.",
        )
    session.timeout = timeout
    return client
