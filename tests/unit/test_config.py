"""Settings: names from SPEC §5, TOML file, one clear line for a bad value."""

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_defaults_match_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROPDESK_DATABASE_URL", "PROPDESK_CONFIG", "PROPDESK_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.database_url == "sqlite+aiosqlite:///propdesk.db"
    assert s.timezone == "Asia/Shanghai" and s.locale == "zh_CN" and s.sweep_seconds == 60
    assert s.api_base_url == "https://api.telegram.org/bot"
    assert s.file_url == "https://api.telegram.org/file/bot"


def test_self_hosted_api_file_url_is_derived(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPDESK_API_BASE_URL", "http://10.0.0.5:8081/bot")
    assert load_settings().file_url == "http://10.0.0.5:8081/file/bot"
    monkeypatch.setenv("PROPDESK_API_FILE_URL", "http://files.local/f/bot")
    assert load_settings().file_url == "http://files.local/f/bot"


def test_plain_postgres_url_gets_the_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", "postgresql://u@db/propdesk")
    assert load_settings().database_url == "postgresql+asyncpg://u@db/propdesk"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PROPDESK_TIMEZONE", "Mars/Base", "PROPDESK_TIMEZONE: unknown time zone"),
        ("PROPDESK_LOCALE", "fr", "PROPDESK_LOCALE: must be one of zh_CN, en"),
        ("PROPDESK_SWEEP_SECONDS", "0", "PROPDESK_SWEEP_SECONDS"),
        ("PROPDESK_DATABASE_URL", "mysql://x", "PROPDESK_DATABASE_URL"),
        ("PROPDESK_API_BASE_URL", "ftp://x/bot", "PROPDESK_API_BASE_URL: must start with http"),
        ("PROPDESK_API_FILE_URL", "notaurl", "PROPDESK_API_FILE_URL: must start with http"),
    ],
)
def test_bad_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)


def test_toml_file_sets_calendar_and_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "propdesk.toml"
    cfg.write_text(
        """
sweep_seconds = 30
[calendar]
default = ["08:30-12:00", "13:30-17:30"]
sun = []
holidays = [2027-01-01]
[[repair_categories]]
code = "water"
name = { zh_CN = "给水", en = "Water" }
fees = [ { item = { zh_CN = "更换水龙头", en = "Replace a tap" }, amount = "35.00" } ]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("PROPDESK_CONFIG", str(cfg))
    monkeypatch.setenv("PROPDESK_SWEEP_SECONDS", "45")  # the environment wins over the file
    s = load_settings()
    assert s.sweep_seconds == 45
    cal = s.business_calendar()
    assert len(cal.hours[0]) == 2 and cal.hours[6] == []
    water = s.category("water")
    assert water is not None and water.chargeable and str(water.fees[0].amount) == "35.00"


def test_broken_toml_and_missing_file_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPDESK_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="file not found"):
        load_settings()
    bad = tmp_path / "bad.toml"
    bad.write_text("[calendar\n", encoding="utf-8")
    monkeypatch.setenv("PROPDESK_CONFIG", str(bad))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()
    bad.write_text('[calendar]\ndefault = ["18:00-08:00"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="ends before it starts"):
        load_settings()


def test_the_readme_example_configuration_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    cfg = tmp_path / "office.toml"
    cfg.write_text(example, encoding="utf-8")
    monkeypatch.setenv("PROPDESK_CONFIG", str(cfg))
    s = load_settings()
    assert s.calendar.sat == ["09:00-12:00"] and s.repair.daily_limit == 10
    assert s.category("doors_windows") is not None and s.lost_found.notice_weekday == "mon"
