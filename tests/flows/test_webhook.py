"""Webhook mode: Telegram's secret token header is required; updates with it are served."""

import json
import socket

import httpx
import pytest

from bot.app import ALLOWED_UPDATES, Webhook
from bot.clock import ManualClock
from tests.flows.harness import Desk

OWNER = 1001


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_rejects_requests_without_the_secret_and_serves_those_with_it(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
        hook = Webhook("https://desk.example.org/propdesk/hook", port=_free_port())
        await desk.app.start()
        assert desk.app.updater is not None
        await desk.app.updater.start_webhook(
            listen=hook.listen, port=hook.port, url_path=hook.path, webhook_url=hook.url,
            secret_token=hook.secret, allowed_updates=ALLOWED_UPDATES,
        )  # fmt: skip
        try:
            assert desk.emu.webhook_url == hook.url
            endpoint = f"http://127.0.0.1:{hook.port}/{hook.path}"
            body = json.dumps(desk.emu.text_update(OWNER, "/cancel"))
            headers = {"Content-Type": "application/json"}
            async with httpx.AsyncClient() as client:
                forged = await client.post(endpoint, content=body, headers=headers)
                wrong = await client.post(
                    endpoint, content=body,
                    headers={**headers, "X-Telegram-Bot-Api-Secret-Token": "guess"},
                )  # fmt: skip
                assert (forged.status_code, wrong.status_code) == (403, 403)
                mark = desk.emu.mark(OWNER)
                good = await client.post(
                    endpoint, content=body,
                    headers={**headers, "X-Telegram-Bot-Api-Secret-Token": hook.secret},
                )  # fmt: skip
                assert good.status_code == 200
            reply = await desk.emu.wait_for(lambda: desk.emu.new_messages(OWNER, mark), 5)
            assert reply[0].content == "There is nothing to cancel."
        finally:
            await desk.app.updater.stop()
            await desk.app.stop()


def test_cli_refuses_a_webhook_url_telegram_cannot_use(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import main

    monkeypatch.setenv("PROPDESK_TOKEN", "123:abc")
    assert main(["run", "--webhook-url", "http://insecure.example/hook"]) == 2
    assert "--webhook-url must be an https:// URL" in capsys.readouterr().err
    assert main(["run", "--port", "8443"]) == 2
    assert "--listen and --port need --webhook-url" in capsys.readouterr().err
