"""The configuration file, environment and flags: precedence, errors that name the key and the
line, the sample file, and where each value in force came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from mud.config import ConfigError, Settings, WebSettings, describe, sample_file, sources


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("DREAMWAVE_")]:
        monkeypatch.delenv(key)
    return tmp_path


def test_flag_beats_environment_beats_file_beats_default(in_tmp, monkeypatch):
    (in_tmp / "dreamwave.toml").write_text(
        'port = 5000\ndb = "file.db"\n[limits]\ncommand_burst = 7\nlogin_lockout = 9.0\n'
    )
    monkeypatch.setenv("DREAMWAVE_DB", "env.db")
    monkeypatch.setenv("DREAMWAVE_LIMITS__COMMAND_BURST", "8")
    s = Settings.load(None, port=6000)
    got = (s.port, s.db, s.limits.command_burst, s.limits.login_lockout)
    assert got == (6000, "env.db", 8, 9.0)
    assert s.limits.login_failures == 5  # the default
    origin = sources(None, port=6000)
    assert origin["port"] == "flag"
    assert origin["db"] == "environment DREAMWAVE_DB"
    assert origin["limits.command_burst"] == "environment DREAMWAVE_LIMITS__COMMAND_BURST"
    assert origin["limits.login_lockout"] == "dreamwave.toml:5"
    assert origin["limits.login_failures"] == "default"


def test_a_limit_given_as_a_flag_sets_only_that_limit(in_tmp):
    (in_tmp / "other.toml").write_text("[limits]\ncommand_burst = 3\n")
    s = Settings.load("other.toml", commands_per_second=1000.0)
    assert s.limits.commands_per_second == 1000.0 and s.limits.command_burst == 3


def test_wrong_keys_and_values_name_the_key_and_the_line(in_tmp):
    (in_tmp / "dreamwave.toml").write_text(
        'port = 4000\n\n[limits]\ncommand_burst = "lots"\nno_such_limit = 1\n[colours]\nx = 1\n'
    )
    with pytest.raises(ConfigError) as err:
        Settings.load()
    problems = err.value.problems
    assert any(p.startswith("dreamwave.toml:4: limits.command_burst: ") for p in problems)
    assert "dreamwave.toml:5: limits.no_such_limit: there is no such setting" in problems
    assert any(p.startswith("dreamwave.toml:6: colours") for p in problems)


def test_broken_toml_and_missing_file_are_one_sentence(in_tmp):
    (in_tmp / "dreamwave.toml").write_text("port = = 4000\n")
    with pytest.raises(ConfigError, match=r"dreamwave.toml: not valid TOML: .*line 1"):
        Settings.load()
    with pytest.raises(ConfigError, match=r"nowhere\.toml: no such configuration file"):
        Settings.load("nowhere.toml")


def test_a_bad_environment_value_names_the_variable(in_tmp, monkeypatch):
    monkeypatch.setenv("DREAMWAVE_PORT", "eighty")
    with pytest.raises(ConfigError, match=r"^DREAMWAVE_PORT: port: "):
        Settings.load()
    monkeypatch.setenv("DREAMWAVE_PORT", "70000")
    with pytest.raises(ConfigError, match="less than or equal to 65535"):
        Settings.load()


def test_the_sample_file_holds_every_setting_at_its_default(in_tmp):
    text = sample_file()
    assert "# wrong passwords from one address ..." in text
    assert "[limits]" in text and "[mssp]" in text
    (in_tmp / "dreamwave.toml").write_text(text)
    assert Settings.load() == Settings()
    origin = sources()
    unset = {k for k, f in Settings.model_fields.items() if f.default is None}  # commented out
    unset |= {f"web.{k}" for k, f in WebSettings.model_fields.items() if f.default is None}
    assert all(
        where.startswith("dreamwave.toml:") for key, where in origin.items() if key not in unset
    ), origin


def test_the_listing_hides_a_database_password_and_says_where(in_tmp):
    s = Settings.load(None, db="postgresql+psycopg://dw:hunter2@db/dw", host=["0.0.0.0", "::"])
    out = describe(s, sources(None, db=s.db, host=s.host))
    assert 'db = "postgresql+psycopg://dw:***@db/dw"  # flag' in out
    assert "hunter2" not in out
    assert 'host = ["0.0.0.0", "::"]  # flag' in out
    assert s.hosts == ["0.0.0.0", "::"]
