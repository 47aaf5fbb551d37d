"""Configuration: config.toml, then HELPDESK_* environment variables, then overrides."""

import math
import os
import tomllib
from pathlib import Path
from typing import Any

DEFAULT_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - refused outside development
ENVIRONMENTS = {"development", "test", "production"}
MIN_SECRET_BYTES = 32
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says why in one line."""


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the config file, environment and overrides into one dict of UPPERCASE keys."""
    path = Path(os.environ.get("HELPDESK_CONFIG", PROJECT_ROOT / "config.toml"))
    with path.open("rb") as handle:
        config = {k: v for k, v in tomllib.load(handle).items() if k.isupper()}
    for key, raw in os.environ.items():
        if key.startswith("HELPDESK_") and key != "HELPDESK_CONFIG":
            name = key.removeprefix("HELPDESK_")
            config[name] = _coerce(key, raw, config.get(name))
    config.update(overrides or {})
    check_config(config)
    return config


def _coerce(key: str, raw: str, current: Any) -> Any:
    """Give an environment string the type of the value it overrides."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{key} expects a whole number, got {raw!r}") from None
    if isinstance(current, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{key} expects a number, got {raw!r}") from None
    return raw


def check_config(config: dict[str, Any]) -> None:
    """Refuse settings that would be unsafe or cannot work."""
    env = config.get("ENV")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"ENV must be development, test or production, got {env!r}")
    if env == "production":
        _check_secret_key(str(config.get("SECRET_KEY", "")))
    url = str(config.get("DATABASE_URL", ""))
    if not url.startswith(("sqlite://", "postgres://", "postgresql://")):
        raise ConfigError(f"DATABASE_URL must start with sqlite:// or postgres://, got {url.split(':')[0]!r}")
    config["DATABASE_POOL_WAIT"] = _seconds(config, "DATABASE_POOL_WAIT")


def _seconds(config: dict[str, Any], key: str) -> float:
    """A setting in seconds: a number above 0 (fractions allowed, from a file or the environment)."""
    value = config.get(key)
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"{key} must be a number of seconds above 0 (e.g. 0.5 or 5), got {value!r}")
    return seconds


def _check_secret_key(key: str) -> None:
    """In production the key signs sessions and emailed links: a public or short one forges them."""
    if key == DEFAULT_SECRET_KEY:
        raise ConfigError(
            "SECRET_KEY is the default from config.toml; set HELPDESK_SECRET_KEY to a long random value "
            "(or HELPDESK_ENV=development on your own machine)"
        )
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes; "
            "set HELPDESK_SECRET_KEY to a long random value"
        )
