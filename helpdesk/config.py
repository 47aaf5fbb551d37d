"""Configuration: config.toml, then HELPDESK_* environment variables, then overrides."""

import math
import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - refused outside development
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
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
    elif env == "test" and not _serves_this_machine(base_url := str(config.get("BASE_URL", ""))):
        # Else ENV=test would be a way to deploy with the published key.
        _check_secret_key(
            str(config.get("SECRET_KEY", "")),
            f", which ENV=test accepts only with BASE_URL on http://127.0.0.1, localhost or [::1], "
            f"not {base_url!r}",
        )
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


def _serves_this_machine(base_url: str) -> bool:
    """Whether the app's address is plain http on a loopback host (a test run on this machine)."""
    try:
        url = urlsplit(base_url)
    except ValueError:  # "http://[::1" and the like: not an address of this machine
        return False
    return url.scheme == "http" and (url.hostname or "") in LOOPBACK_HOSTS


def _check_secret_key(key: str, why_test: str = "") -> None:
    """The key signs sessions and emailed links: a public or short one forges them."""
    if key == DEFAULT_SECRET_KEY:
        hint = "" if why_test else " (or HELPDESK_ENV=development on your own machine)"
        raise ConfigError(
            f"SECRET_KEY is the default from config.toml{why_test}; "
            f"set HELPDESK_SECRET_KEY to a long random value{hint}"
        )
    if len(key.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"SECRET_KEY is shorter than {MIN_SECRET_BYTES} bytes{why_test}; "
            "set HELPDESK_SECRET_KEY to a long random value"
        )
