"""Configuration: file, then HELPDESK_* environment, then overrides; unsafe settings refused."""

import pytest

from helpdesk import create_app
from helpdesk.config import DEFAULT_SECRET_KEY, ConfigError, load_config


@pytest.fixture
def development(monkeypatch):
    """Opt in to development, as `make run` does (config.toml defaults to production)."""
    monkeypatch.setenv("HELPDESK_ENV", "development")


def test_environment_overrides_file_and_keeps_types(monkeypatch, development):
    monkeypatch.setenv("HELPDESK_SMTP_PORT", "2525")
    monkeypatch.setenv("HELPDESK_SMTP_STARTTLS", "true")
    monkeypatch.setenv("HELPDESK_BASE_URL", "https://help.example.com")
    config = load_config()
    assert config["SMTP_PORT"] == 2525
    assert config["SMTP_STARTTLS"] is True
    assert config["BASE_URL"] == "https://help.example.com"


def test_overrides_win_over_environment(monkeypatch, development):
    monkeypatch.setenv("HELPDESK_TIMEZONE", "UTC")
    assert load_config({"TIMEZONE": "Europe/Paris"})["TIMEZONE"] == "Europe/Paris"


def test_non_numeric_environment_value_for_a_number_is_refused(monkeypatch):
    monkeypatch.setenv("HELPDESK_SMTP_PORT", "twenty")
    with pytest.raises(ConfigError):
        load_config()


def test_pool_wait_takes_fractions_of_a_second_from_the_environment(monkeypatch, development):
    assert load_config()["DATABASE_POOL_WAIT"] == 5.0
    monkeypatch.setenv("HELPDESK_DATABASE_POOL_WAIT", "0.5")
    assert load_config()["DATABASE_POOL_WAIT"] == 0.5
    assert load_config({"DATABASE_POOL_WAIT": 2})["DATABASE_POOL_WAIT"] == 2.0


@pytest.mark.parametrize("wait", ["0", "-1", "-0.5", "soon", "", "nan", "inf"])
def test_pool_wait_that_is_not_a_positive_number_is_refused(monkeypatch, development, wait):
    monkeypatch.setenv("HELPDESK_DATABASE_POOL_WAIT", wait)
    with pytest.raises(ConfigError, match="DATABASE_POOL_WAIT"):
        load_config()


@pytest.mark.parametrize("wait", [0, -3, True, None, "soon"])
def test_pool_wait_override_that_is_not_a_positive_number_is_refused(development, wait):
    with pytest.raises(ConfigError, match="DATABASE_POOL_WAIT must be a number of seconds above 0"):
        load_config({"DATABASE_POOL_WAIT": wait})


def test_default_secret_refused_outside_development():
    with pytest.raises(ConfigError, match="SECRET_KEY is the default"):
        load_config({"ENV": "production"})
    assert load_config({"ENV": "production", "SECRET_KEY": "x" * 40})["ENV"] == "production"


def test_shipped_config_is_production_and_refuses_its_own_secret(monkeypatch):
    monkeypatch.delenv("HELPDESK_ENV", raising=False)
    monkeypatch.delenv("HELPDESK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is the default"):
        load_config()
    with pytest.raises(ConfigError):
        create_app()
    monkeypatch.setenv("HELPDESK_SECRET_KEY", "k" * 32)
    assert load_config()["ENV"] == "production"


@pytest.mark.parametrize("key", ["short", "x" * 31, "é" * 15])
def test_short_secret_refused_in_production(key):
    with pytest.raises(ConfigError, match="shorter than 32 bytes"):
        load_config({"ENV": "production", "SECRET_KEY": key})


LOOPBACK = ["http://127.0.0.1:8000", "http://localhost:5000/", "http://[::1]:8000", "http://LOCALHOST"]
ELSEWHERE = [
    "https://127.0.0.1:8000",  # https is how a real deployment is reached
    "https://help.example.com",
    "http://help.example.com",
    "http://10.0.0.5:8000",
    "http://127.0.0.2:8000",
    "http://localhost.example.com",
    "http://127.0.0.1@evil.example",
    "http://[::1",
    "",
]


@pytest.mark.parametrize("base_url", LOOPBACK)
def test_default_and_short_secrets_allowed_in_test_on_this_machine(base_url):
    for key in (DEFAULT_SECRET_KEY, "short"):
        assert load_config({"ENV": "test", "SECRET_KEY": key, "BASE_URL": base_url})["ENV"] == "test"


@pytest.mark.parametrize("base_url", ELSEWHERE)
def test_test_environment_refuses_the_default_and_short_secrets_anywhere_else(base_url):
    """ENV=test is no way to deploy with the published key."""
    with pytest.raises(ConfigError, match="SECRET_KEY is the default from config.toml, which ENV=test"):
        load_config({"ENV": "test", "SECRET_KEY": DEFAULT_SECRET_KEY, "BASE_URL": base_url})
    with pytest.raises(ConfigError, match="shorter than 32 bytes, which ENV=test"):
        load_config({"ENV": "test", "SECRET_KEY": "x" * 31, "BASE_URL": base_url})
    config = load_config({"ENV": "test", "SECRET_KEY": "k" * 32, "BASE_URL": base_url})
    assert config["ENV"] == "test"


@pytest.mark.parametrize("base_url", [*LOOPBACK, *ELSEWHERE])
def test_development_accepts_any_secret(base_url):
    config = load_config({"ENV": "development", "SECRET_KEY": DEFAULT_SECRET_KEY, "BASE_URL": base_url})
    assert config["ENV"] == "development"
    assert load_config({"ENV": "development", "SECRET_KEY": "short"})["ENV"] == "development"


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError, match="ENV must be development, test or production"):
        load_config({"ENV": "prod", "SECRET_KEY": "x" * 40})


def test_config_keys_reach_the_app_uppercase():
    app = create_app({"ENV": "test", "TIMEZONE": "UTC"})
    assert app.config["TIMEZONE"] == "UTC"
    assert app.config["DATABASE_URL"].startswith("sqlite://")
