"""Settings come from environment variables, typed, with clear failures."""

from pathlib import Path

import msgspec
import pytest

from services.settings import Settings


def test_every_variable_is_read_and_typed() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u:p@db:5432/k",
            "KOLMARKET_DATA_DIR": "/var/lib/kolmarket",
            "PORT": "9000",
            "LOG_FORMAT": "json",
            "CORS_ORIGINS": "https://a.example, https://b.example",
            "JWT_SECRET": "s" * 40,
            "LOGIN_LIMIT_PER_IP": "5",
            "CLICK_LIMIT_PER_MINUTE": "30",
            "MINIMUM_PAYOUT": "5000",
            "STRIPE_API_KEY": "sk_test_x",
        }
    )
    assert settings.data_dir == Path("/var/lib/kolmarket")
    assert settings.port == 9000
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.login_limit_per_ip == 5
    assert settings.click_limit_per_minute == 30
    assert settings.minimum_payout == 5_000
    assert settings.jwt_secret == "s" * 40


def test_defaults_and_a_random_secret_without_configuration() -> None:
    first, second = Settings.from_env({}), Settings.from_env({})
    assert first.database_url is None
    assert first.port == 8000
    assert first.click_limit_per_minute == 120
    assert len(first.jwt_secret) >= 40
    assert first.jwt_secret != second.jwt_secret


def test_a_bad_value_names_its_variable() -> None:
    with pytest.raises(msgspec.ValidationError, match="port"):
        Settings.from_env({"PORT": "eighty"})


def test_shared_limits_and_the_click_spool_are_configured_from_the_environment() -> None:
    settings = Settings.from_env(
        {"REDIS_URL": "redis://cache:6379/0", "KOLMARKET_DATA_DIR": "/var/lib/kolmarket"}
    )
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.spool_folder == Path("/var/lib/kolmarket/clicks")
    moved = Settings.from_env({"CLICK_SPOOL_DIR": "/srv/spool"})
    assert moved.spool_folder == Path("/srv/spool")
    assert Settings.from_env({}).redis_url is None
