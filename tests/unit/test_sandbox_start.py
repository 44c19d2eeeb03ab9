"""`propdesk sandbox` is ready in under 5 seconds and needs no network.

Measured from launching the process to the page served with every persona bound. Python's
audit hooks record every outgoing connection and name lookup the process makes; and where this
machine allows a network namespace (root, `unshare`), the sandbox also runs in one that has
nothing but its own loopback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.sandbox_process import ROOT, sandbox_process

pytestmark = pytest.mark.slow
LIMIT_SECONDS = 5.0
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}

AUDITED = textwrap.dedent(
    """
    import json, os, sys
    log = open(os.environ["SANDBOX_NET_LOG"], "a", buffering=1)
    def hook(event, args):
        if event in ("socket.connect", "socket.bind"):
            log.write(json.dumps([event[7:], repr(args[1])]) + "\\n")
        elif event == "socket.getaddrinfo":
            log.write(json.dumps(["getaddrinfo", str(args[0])]) + "\\n")
    sys.addaudithook(hook)
    from bot.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def fetch(url: str) -> bytes:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with direct.open(url, timeout=5) as response:
        assert response.status == 200
        return bytes(response.read())


def ready(url: str) -> dict[str, object]:
    """The page and its state; every persona has been welcomed and has a menu."""
    assert b"/static/app.js" in fetch(url)
    state = json.loads(fetch(url + "api/state"))
    assert len(state["chats"]) == 8
    for chat in state["chats"]:
        assert chat["commands"] and len(chat["messages"]) >= 2, chat["key"]
    return dict(state)


def test_sandbox_serves_its_page_in_under_5_seconds_and_connects_nowhere(
    tmp_path: Path,
) -> None:
    log = tmp_path / "net.log"
    launched = time.monotonic()
    with sandbox_process(
        prefix=[sys.executable, "-c", AUDITED],
        env={
            "SANDBOX_NET_LOG": str(log),
            # Any attempt to reach the internet through a proxy would show up as a connect.
            "HTTP_PROXY": "http://192.0.2.1:9",
            "HTTPS_PROXY": "http://192.0.2.1:9",
        },
    ) as sandbox:
        ready(sandbox.url)
        seconds = time.monotonic() - launched
    print(f"sandbox ready and page served {seconds:.2f} s after launch")
    assert seconds < LIMIT_SECONDS
    assert sandbox.url.startswith("http://127.0.0.1:")
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["bind", repr(("127.0.0.1", 0))] in events  # the hook saw the page's socket
    for kind, target in events:
        host = target.strip("()'").split("'")[0] if kind != "getaddrinfo" else target
        assert host in LOOPBACK_NAMES or host.startswith("/"), (kind, target)


CHECK_IN_NAMESPACE = textwrap.dedent(
    """
    import json, time
    from tests.browser.sandbox_process import sandbox_process
    from tests.unit.test_sandbox_start import ready
    launched = time.monotonic()
    with sandbox_process() as sandbox:
        ready(sandbox.url)
        print(json.dumps({"seconds": time.monotonic() - launched}))
    """
)


def test_sandbox_works_inside_a_network_namespace_with_only_loopback() -> None:
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip:
        pytest.skip("needs unshare and ip (util-linux, iproute2) to make a namespace")
    probe = subprocess.run([unshare, "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this machine does not allow a network namespace: {probe.stderr.strip()}")
    done = subprocess.run(
        [unshare, "--net", "sh", "-c",
         f'{ip} link set lo up && exec "$0" -c "$1"', sys.executable, CHECK_IN_NAMESPACE],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"in a namespace without network: ready in {result['seconds']:.2f} s")
    assert result["seconds"] < LIMIT_SECONDS
