"""Settings come from the environment; passwords may come from files and never show in repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from edu_common.config import ConfigError
from edu_common.settings import development_defaults
from sms_notify.adapters.payments import HttpPayments
from sms_notify.adapters.registry import RegistryOnFirstUse
from sms_notify.app import build_channels, build_deps
from sms_notify.settings import DEV_PAYMENT_SECRET, Settings

POPULATION = Path(__file__).resolve().parents[3] / "dev" / "population.json"

VARS = [
    "MONGO_URL", "MONGO_DATABASE", "AMQP_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_USER",
    "SMTP_PASSWORD", "SMTP_PASSWORD_FILE", "SMTP_TLS", "MAIL_FROM", "SMSC_URL", "SMSC_LOGIN",
    "SMSC_PASSWORD", "SMSC_PASSWORD_FILE", "SMSC_SENDER", "MOBIZON_URL", "MOBIZON_API_KEY",
    "SMS_PROVIDERS", "DELIVERY_REPORT_SECRET", "LIMIT_CODES_PER_WINDOW",
    "LIMIT_CODE_WINDOW_MINUTES", "LIMIT_SMS_PER_DAY", "DELIVERY_MAX_ATTEMPTS", "TIMEZONE",
    "PAYMENT_ADAPTER", "PAYMENT_PROVIDER_URL", "PAYMENT_CALLBACK_URL", "PAYMENT_RETURN_URL",
    "PAYMENT_CALLBACK_SECRET", "PAYMENT_TIMEOUT_SECONDS", "PHONE_CODE_PEPPER",
    "POPULATION_REGISTRY_URL", "EDU_ENV", "IDENTITY_JWKS_URL", "IDENTITY_URL",
    "SMS_BUDGET_PER_ACCOUNT_DAY", "SMS_BUDGET_PLATFORM_PER_HOUR", "SMS_BUDGET_COUNTER_SHARDS",
    "SMS_ALLOWED_COUNTRIES",
]  # fmt: skip
# What a deployment sets (deploy/k8s): every development default replaced.
PRODUCTION = {
    "EDU_ENV": "production",
    "MONGO_URL": "mongodb://mongo-0.mongo:27017/sms_notify?replicaSet=rs0",
    "AMQP_URL": "amqps://notify:x@rabbitmq:5671/edu",
    "IDENTITY_JWKS_URL": "http://identity-web:8000/.well-known/jwks.json",
    "IDENTITY_URL": "http://identity-web:8000",
    "SMSC_URL": "https://smsc.kz",
    "SMSC_PASSWORD": "from-a-secret-1",
    "MOBIZON_URL": "https://api.mobizon.kz",
    "MOBIZON_API_KEY": "from-a-secret-2",
    "DELIVERY_REPORT_SECRET": "from-a-secret-3",
    "PHONE_CODE_PEPPER": "from-a-secret-4-at-least-16",
    "POPULATION_REGISTRY_URL": "https://registry.example.kz",
    "PAYMENT_ADAPTER": "http",
    "PAYMENT_PROVIDER_URL": "https://pay.example.kz/api",
    "PAYMENT_CALLBACK_URL": "https://edu.example.kz/api/notify/providers/payments/callback",
    "PAYMENT_CALLBACK_SECRET": "from-a-secret-5",
}
DEVELOPMENT_DEFAULTS = {
    "SMSC_URL", "SMSC_PASSWORD", "MOBIZON_URL", "MOBIZON_API_KEY", "DELIVERY_REPORT_SECRET",
    "PHONE_CODE_PEPPER", "POPULATION_REGISTRY_URL", "PAYMENT_ADAPTER", "PAYMENT_PROVIDER_URL",
    "PAYMENT_CALLBACK_URL", "PAYMENT_CALLBACK_SECRET",
}  # fmt: skip


@pytest.fixture
def environ(monkeypatch):
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_point_at_the_dev_inbox(environ):
    settings = Settings.from_env()
    assert settings.database == "sms_notify"
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_tls) == ("127.0.0.1", 1025, False)
    assert settings.smsc_url == "http://127.0.0.1:8025/sys/send.php"
    assert settings.smsc_login == "dev"
    assert settings.smsc_password.startswith("dev-only")
    assert settings.mail_from == "no-reply@edu.example.kz"
    assert settings.smtp_user is None and settings.smsc_sender is None


def test_passwords_from_the_environment_or_a_file_stay_out_of_repr(environ, tmp_path):
    secret = tmp_path / "smsc_password"
    secret.write_text("from-a-file\n")
    environ.setenv("SMSC_PASSWORD_FILE", str(secret))
    environ.setenv("SMTP_PASSWORD", "from-the-env")
    environ.setenv("SMTP_TLS", "true")
    settings = Settings.from_env()
    assert settings.smsc_password == "from-a-file"
    assert settings.smtp_password == "from-the-env"
    assert settings.smtp_tls is True
    assert "from-a-file" not in repr(settings) and "from-the-env" not in repr(settings)


def test_an_unreadable_secret_file_is_a_clear_error(environ, tmp_path):
    environ.setenv("SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="SMTP_PASSWORD_FILE"):
        Settings.from_env()


def test_providers_limits_and_the_webhook_secret(environ):
    settings = Settings.from_env()
    assert settings.sms_providers == ("smsc", "mobizon")
    assert settings.mobizon_url == "http://127.0.0.1:8025"
    assert settings.report_secret.startswith("dev-only")
    assert (settings.codes_per_window, settings.sms_per_day) == (5, 20)
    assert settings.code_window.total_seconds() == 600
    environ.setenv("SMS_PROVIDERS", "mobizon, smsc")
    environ.setenv("DELIVERY_REPORT_SECRET", "from-the-env")
    environ.setenv("LIMIT_CODES_PER_WINDOW", "3")
    settings = Settings.from_env()
    assert settings.sms_providers == ("mobizon", "smsc")
    assert settings.codes_per_window == 3
    assert "from-the-env" not in repr(settings)
    with pytest.raises(ValueError, match="SMS_PROVIDERS"):
        environ.setenv("SMS_PROVIDERS", "smsc,pigeon")
        build_channels(Settings.from_env())


def test_limits_and_retries_reach_the_deps_from_the_settings(environ, mongo_url):
    environ.setenv("LIMIT_SMS_PER_DAY", "7")
    environ.setenv("DELIVERY_MAX_ATTEMPTS", "3")
    environ.setenv("TIMEZONE", "Asia/Aqtobe")
    deps = build_deps(Settings.from_env(mongo_url=mongo_url))
    assert deps.limits.sms_per_day == 7 and deps.policy.max_attempts == 3
    assert str(deps.tz) == "Asia/Aqtobe"
    environ.setenv("TIMEZONE", "Nowhere/Land")
    with pytest.raises(ConfigError, match="TIMEZONE"):
        Settings.from_env()


def test_the_registry_is_opened_when_first_asked(tmp_path):
    missing = RegistryOnFirstUse(str(tmp_path / "nowhere.json"))  # a process that never asks
    with pytest.raises(FileNotFoundError):
        missing.find_person("081009542946")
    registry = RegistryOnFirstUse(str(POPULATION))
    assert registry.find_person("081009542946") is not None


def test_every_development_default_is_named_never_shown(environ):
    settings = Settings.from_env()
    named = set(development_defaults(settings))
    assert named >= DEVELOPMENT_DEFAULTS, DEVELOPMENT_DEFAULTS - named
    assert DEV_PAYMENT_SECRET not in repr(settings)
    assert settings.payment_adapter == "dev"
    assert settings.payment_provider_url == "http://127.0.0.1:8025"
    assert settings.payment_callback_url.endswith("/providers/payments/callback")
    assert settings.payment_timeout == 10.0 and settings.payment_return_url is None


def test_production_refuses_the_development_payment_provider_and_secrets(environ):
    production = Settings.from_env(environ=PRODUCTION)
    assert development_defaults(production) == []
    assert production.payment_adapter == "http"
    for name in sorted(DEVELOPMENT_DEFAULTS):
        left_out = {k: v for k, v in PRODUCTION.items() if k != name}
        with pytest.raises(ConfigError, match=name) as refused:
            Settings.from_env(environ=left_out)
        assert "dev-only" not in str(refused.value)
    # A provider or callback on this machine is a development value, whatever its port.
    for name in ("PAYMENT_PROVIDER_URL", "PAYMENT_CALLBACK_URL"):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env(environ={**PRODUCTION, name: "http://localhost:9999/x"})
    with pytest.raises(ConfigError, match="PAYMENT_ADAPTER"):
        Settings.from_env(environ={**PRODUCTION, "PAYMENT_ADAPTER": "dev"})


def test_the_payment_settings_reach_the_adapter(environ, mongo_url):
    environ.setenv("PAYMENT_ADAPTER", "http")
    environ.setenv("PAYMENT_PROVIDER_URL", "https://pay.example.kz/api/")
    environ.setenv("PAYMENT_TIMEOUT_SECONDS", "3.5")
    deps = build_deps(Settings.from_env(mongo_url=mongo_url))
    assert isinstance(deps.payments, HttpPayments)
    assert deps.payments.name == "http" and deps.payments.base_url == "https://pay.example.kz/api"
    assert deps.payments.timeout == 3.5
    environ.setenv("PAYMENT_ADAPTER", "instant")
    with pytest.raises(ValueError, match="PAYMENT_ADAPTER"):
        build_deps(Settings.from_env(mongo_url=mongo_url))


def test_the_sms_budgets_and_countries_reach_the_deps(environ, mongo_url):
    defaults = Settings.from_env()
    assert (defaults.budget_per_account_day, defaults.budget_platform_hour) == (50, 20_000)
    assert defaults.sms_countries == ("+7",)
    environ.setenv("SMS_BUDGET_PER_ACCOUNT_DAY", "12")
    environ.setenv("SMS_BUDGET_PLATFORM_PER_HOUR", "3000")
    environ.setenv("SMS_BUDGET_COUNTER_SHARDS", "4")
    environ.setenv("SMS_ALLOWED_COUNTRIES", "kz, +998")
    deps = build_deps(Settings.from_env(mongo_url=mongo_url))
    assert (deps.budgets.per_account_day, deps.budgets.platform_hour) == (12, 3000)
    assert deps.budgets.countries == ("KZ", "+998") and deps.budgets.shards == 4
    for bad in ("Kazakhstan", " , "):
        environ.setenv("SMS_ALLOWED_COUNTRIES", bad)
        with pytest.raises(ConfigError, match="SMS_ALLOWED_COUNTRIES"):
            Settings.from_env()
