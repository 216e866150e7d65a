"""Settings: the defaults, then DATABASE_URL and BUDGETOPT_<FIELD>, then the options given."""

from __future__ import annotations

from api.settings import ServiceSettings


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///env.db")
    monkeypatch.setenv("BUDGETOPT_MAX_CHANNELS", "7")
    monkeypatch.setenv("BUDGETOPT_DEV_MODE", "yes")
    settings = ServiceSettings(workers=3)
    assert (settings.database_url, settings.max_channels, settings.dev_mode) == (
        "sqlite:///env.db",
        7,
        True,
    )
    assert settings.workers == 3
    monkeypatch.setenv("BUDGETOPT_MAX_PERIODS", "many")
    try:
        ServiceSettings()
    except ValueError as exc:
        assert "BUDGETOPT_MAX_PERIODS: expected int, got 'many'" in str(exc)
    else:
        raise AssertionError("a bad setting must be refused")


def test_only_the_service_variables_are_read_as_before(monkeypatch):
    for name in ("DATABASE_URL", "BUDGETOPT_DEV_MODE", "BUDGETOPT_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("budgetopt_workers", "9")  # names are exact: lowercase is not read
    monkeypatch.setenv("database_url", "sqlite:///lower.db")
    defaults = ServiceSettings()
    assert (defaults.workers, defaults.database_url) == (1, "sqlite:///budgetopt.db")
    for word, value in [("1", True), ("On", True), ("no", False), ("", False), ("OFF", False)]:
        monkeypatch.setenv("BUDGETOPT_DEV_MODE", word)
        assert ServiceSettings().dev_mode is value, word
    monkeypatch.setenv("BUDGETOPT_DEV_MODE", "t")
    try:
        ServiceSettings()
    except ValueError as exc:
        assert str(exc) == "BUDGETOPT_DEV_MODE: expected true or false, got 't'"
    else:
        raise AssertionError("only the listed words are true or false")
    monkeypatch.setenv("BUDGETOPT_DEV_MODE", "1")
    monkeypatch.setenv("BUDGETOPT_JOB_POLL_SECONDS", "0.25")
    settings = ServiceSettings(dev_mode=False)  # the options given win over the environment
    assert settings.dev_mode is False and settings.job_poll_seconds == 0.25
