"""Configuration: file, then HELPDESK_* environment, then overrides; unsafe settings refused."""

import pytest

from helpdesk import create_app
from helpdesk.config import ConfigError, load_config


def test_environment_overrides_file_and_keeps_types(monkeypatch):
    monkeypatch.setenv("HELPDESK_SMTP_PORT", "2525")
    monkeypatch.setenv("HELPDESK_SMTP_STARTTLS", "true")
    monkeypatch.setenv("HELPDESK_BASE_URL", "https://help.example.com")
    config = load_config()
    assert config["SMTP_PORT"] == 2525
    assert config["SMTP_STARTTLS"] is True
    assert config["BASE_URL"] == "https://help.example.com"


def test_overrides_win_over_environment(monkeypatch):
    monkeypatch.setenv("HELPDESK_TIMEZONE", "UTC")
    assert load_config({"TIMEZONE": "Europe/Paris"})["TIMEZONE"] == "Europe/Paris"


def test_non_numeric_environment_value_for_a_number_is_refused(monkeypatch):
    monkeypatch.setenv("HELPDESK_SMTP_PORT", "twenty")
    with pytest.raises(ConfigError):
        load_config()


def test_default_secret_refused_outside_development():
    with pytest.raises(ConfigError):
        load_config({"ENV": "production"})
    assert load_config({"ENV": "production", "SECRET_KEY": "x" * 40})["ENV"] == "production"


def test_config_keys_reach_the_app_uppercase():
    app = create_app({"ENV": "test", "TIMEZONE": "UTC"})
    assert app.config["TIMEZONE"] == "UTC"
    assert app.config["DATABASE_URL"].startswith("sqlite://")
