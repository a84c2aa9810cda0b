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


# -- a loud warning when the app is reachable from other machines without a login -----------
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts_need_no_warning(host):
    from advisor.ui.app import exposure_warning

    assert exposure_warning(host, auth=None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.5", "10.0.0.7", "fe80::1"])
def test_other_hosts_without_auth_are_warned_about(host):
    from advisor.ui.app import exposure_warning

    text = exposure_warning(host, auth=None)
    assert text and "no login" in text and "--auth" in text and "ADVISOR_AUTH" in text
    assert exposure_warning(host, auth=f"{USER}:{PASSWORD}") is None  # a login: no warning


def test_a_public_share_link_without_auth_is_warned_about():
    from advisor.ui.app import exposure_warning

    assert "public" in (exposure_warning("127.0.0.1", auth=None, share=True) or "")
    assert exposure_warning("127.0.0.1", auth=f"{USER}:{PASSWORD}", share=True) is None


def test_the_warning_goes_to_stderr_and_the_log(capsys, caplog):
    from advisor.ui.app import warn_if_exposed

    with caplog.at_level("WARNING", logger="advisor.serve"):
        text = warn_if_exposed("0.0.0.0", None)
    assert text and [r.getMessage() for r in caplog.records] == [text]
    assert f"WARNING: {text}" in capsys.readouterr().err
    caplog.clear()
    assert warn_if_exposed("127.0.0.1", None) is None
    assert not caplog.records and not capsys.readouterr().err


def test_serve_on_all_interfaces_without_auth_warns(real_kb):
    """`advisor serve --host 0.0.0.0` for a few seconds: it does listen on every interface
    (read from /proc/net/tcp) and its output says so loudly, before it serves."""
    env = {"ADVISOR_DATA_DIR": str(real_kb.settings.data_dir), "ADVISOR_LLM_BACKEND": "none"}
    with running_app(["--host", "0.0.0.0"], env) as app:
        log = app.log_tail(20000)
        if Path("/proc/net/tcp").exists():
            assert _listening(app.port) == {"0.0.0.0"}
    assert "WARNING: The web app listens on 0.0.0.0 (every network interface) with no login" in log


def test_the_default_server_prints_no_warning(app_server):
    assert "WARNING" not in app_server.log_tail(20000)
