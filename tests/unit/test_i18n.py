"""Catalogs: both locales load, every string is translated, none is stale, placeholders match."""

import ast
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, I18n, load_catalogs, split_text, units
from models.notification import Listing, Money, Msg, msg

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with open(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def _extracted_ids(tmp: Path) -> set[str]:
    pot = tmp / "messages.pot"
    keywords = [
        "-k",
        "N_",
        "-k",
        "msg",
        "-k",
        "add",
        "-k",
        "reply",
        "-k",
        "answer",
        "-k",
        "Invalid",
    ]
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "pyproject.toml",
         *keywords, "--no-default-keywords", "-o", str(pot), "bot", "handlers", "models"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with open(pot, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_both_locales_load_and_differ() -> None:
    catalogs = load_catalogs()
    assert set(catalogs) == {"zh_CN", "en"}
    assert catalogs["zh_CN"].gettext("Choose your language:") == "请选择语言："
    assert catalogs["en"].gettext("Choose your language:") == "Choose your language:"


def test_catalogs_are_not_stale_and_chinese_is_complete(tmp_path: Path) -> None:
    code_ids = _extracted_ids(tmp_path)
    for locale in ("zh_CN", "en"):
        po_ids = {m.id for m in _catalog(locale) if m.id}
        assert code_ids - po_ids == set(), f"{locale}: run .ci/i18n extract"
        assert po_ids - code_ids == set(), f"{locale}: obsolete entries; run .ci/i18n extract"
    missing = [m.id for m in _catalog("zh_CN") if m.id and not m.string]
    assert missing == []


def test_translations_keep_the_placeholders() -> None:
    for message in _catalog("zh_CN"):
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(message.id)) == set(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_money_and_dates_are_formatted_per_locale() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    i18n = I18n("zh_CN", ZoneInfo("Asia/Shanghai"), load_catalogs())
    when = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    assert i18n.format_value(Money("1234.5"), "zh_CN") == "¥1,234.50"
    assert i18n.format_value(when, "zh_CN") == "2026年11月27日 17:30"
    assert i18n.format_value(when, "en") == "27 Nov 2026, 17:30"
    assert i18n.render(msg("Unit: {unit}", unit="1-2-301"), "zh_CN").chunks == ["房号：1-2-301"]


def test_a_listing_kept_in_the_outbox_is_listed_in_the_readers_language() -> None:
    from zoneinfo import ZoneInfo

    i18n = I18n("zh_CN", ZoneInfo("Asia/Shanghai"), load_catalogs())
    stored = msg("Your units: {units}", units=Listing(("1-2-301", "1-2-302", "3-1-101")))
    queued = Msg.from_json(stored.to_json())
    assert i18n.render(queued, "zh_CN").chunks == ["您的房屋：1-2-301、1-2-302和3-1-101"]
    assert i18n.render(queued, "en").chunks == ["Your units: 1-2-301, 1-2-302, and 3-1-101"]


def test_long_text_is_split_under_telegram_limit() -> None:
    text = "\n".join(f"line {i} " + "x" * 100 for i in range(100))
    chunks = split_text(text)
    assert all(len(c) <= 4096 for c in chunks) and len(chunks) == 3
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


def test_text_with_emoji_is_split_as_telegram_counts_it() -> None:
    # Telegram's 4,096 are UTF-16 code units: 🔧 and 🚨 are two each
    text = "\n".join(f"🔧🚨 line {i} " + "漏水" * 40 for i in range(60))
    assert units(text) > len(text)
    chunks = split_text(text)
    assert all(units(c) <= 4096 for c in chunks) and len(chunks) == 2
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
    # under 4,096 characters yet over 4,096 units: two messages, not one Telegram refuses
    assert len(split_text("🔧 " * 1400)) == 2
    # no line break to cut at: cut inside, never through an emoji
    solid = "🔧" * 3000
    pieces = split_text(solid)
    assert [units(p) for p in pieces] == [4096, 6000 - 4096] and "".join(pieces) == solid


def test_a_message_with_a_missing_parameter_is_still_rendered() -> None:
    from zoneinfo import ZoneInfo

    i18n = I18n("en", ZoneInfo("Asia/Shanghai"), load_catalogs())
    assert i18n.text("{ref} is already assigned to {name}.", "en", name="Zhang") == (
        "{ref} is already assigned to Zhang."
    )


def test_chinese_text_uses_full_width_punctuation() -> None:
    """Chinese reads with ，：！？； and （）; ASCII marks next to Chinese characters look wrong."""
    cjk = r"[\u3400-\u9fff]"
    bad = re.compile(rf"{cjk}\s*[,:!?;]|[,:!?;(]\s*{cjk}|{cjk}\(|\){cjk}")
    offenders = [
        str(m.string) for m in _catalog("zh_CN") if m.id and m.string and bad.search(str(m.string))
    ]
    assert offenders == []


def test_every_marked_string_in_the_code_is_in_the_catalog() -> None:
    """Babel's extractor skips an N_() nested in another marked call's arguments (e.g.
    `ctx.reply(out.button_row((N_("..."), ...)))`): such a button would stay in English for
    every reader. Every N_("literal") in the code must be a catalog entry."""
    ids = {m.id for m in _catalog("zh_CN") if m.id}
    missing = []
    for package in ("bot", "handlers", "models"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "N_"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and node.args[0].value not in ids
                ):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.args[0].value!r}")
    assert missing == []
