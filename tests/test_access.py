"""Access to the running app (`advisor serve` in its own process on 127.0.0.1): it binds to
the loopback interface by default, and with `--auth` or `ADVISOR_AUTH` a request without
credentials or with wrong ones is refused while the right ones get an answer."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from advisor.load import reply_text, running_app

pytestmark = pytest.mark.integration
USER, PASSWORD = "ann", "s3cret-pass"
LISTEN = "0A"  # TCP state in /proc/net/tcp


def _listening(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port``, read from /proc/net/tcp{,6}."""
    found = set()
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, _, port_hex = local.partition(":")
            if state != LISTEN or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(addr)
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # host order
            found.add(socket.inet_ntop(family, raw))
    return found


def test_binds_to_loopback_only_by_default(app_server):
    """The shared server is started with no --host."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("reads the listening sockets from Linux's /proc/net/tcp")
    assert _listening(app_server.port) == {"127.0.0.1"}


@pytest.fixture(scope="module", params=["--auth flag", "ADVISOR_AUTH"])
def auth_app(request, real_kb):
    env = {"ADVISOR_DATA_DIR": str(real_kb.settings.data_dir), "ADVISOR_LLM_BACKEND": "none"}
    args: list[str] = []
    if request.param == "ADVISOR_AUTH":
        env["ADVISOR_AUTH"] = f"{USER}:{PASSWORD}"
    else:
        args = ["--auth", f"{USER}:{PASSWORD}"]
    with running_app(args, env) as app:
        yield app


def _status(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _login(url: str, user: str, password: str) -> tuple[int, str]:
    """(status, cookie header) of a login with these credentials."""
    form = urllib.parse.urlencode({"username": user, "password": password}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "login", data=form)) as resp:
            cookies = resp.headers.get_all("Set-Cookie") or []
            return int(resp.status), "; ".join(c.split(";", 1)[0] for c in cookies)
    except urllib.error.HTTPError as exc:
        return int(exc.code), ""


CHAT = json.dumps({"data": ["IB vs RoCE?", []]}).encode()
JSON = {"Content-Type": "application/json"}


def test_no_credentials_are_refused(auth_app):
    from gradio_client import Client

    url = auth_app.url
    assert _status(url + "config") == 401
    assert _status(url + "gradio_api/info") == 401
    assert _status(url + "gradio_api/call/chat", CHAT, JSON) == 401
    with pytest.raises(ValueError, match="credentials were not provided"):
        Client(url, verbose=False)


# Gradio strips spaces around the user name (not the password), so "ann " is ann.
@pytest.mark.parametrize(
    "user, password",
    [
        (USER, "wrong"),
        ("bob", PASSWORD),
        (USER, ""),
        (USER, PASSWORD.upper()),
        (USER, PASSWORD + " "),
    ],
)
def test_wrong_credentials_are_refused(auth_app, user, password):
    from gradio_client import Client

    status, cookie = _login(auth_app.url, user, password)
    assert status in (400, 401, 422) and "access-token" not in cookie
    headers = {**JSON, "Cookie": cookie} if cookie else JSON
    assert _status(auth_app.url + "gradio_api/call/chat", CHAT, headers) == 401
    with pytest.raises(ValueError, match="Could not login"):
        Client(auth_app.url, auth=(user, password), verbose=False)


def test_right_credentials_get_an_answer(auth_app):
    from gradio_client import Client

    status, cookie = _login(auth_app.url, USER, PASSWORD)
    assert status == 200 and cookie
    assert _status(auth_app.url + "config", headers={"Cookie": cookie}) == 200
    assert _status(auth_app.url + "gradio_api/call/chat", CHAT, {**JSON, "Cookie": cookie}) == 200
    client = Client(auth_app.url, auth=(USER, PASSWORD), verbose=False)
    history = client.predict("IB vs RoCE?", [], api_name="/chat")[0]
    assert "InfiniBand" in reply_text(history)
