"""Settings declared once: the environment variable, the default and the type of each field."""

from __future__ import annotations

import datetime as dt
from dataclasses import FrozenInstanceError, dataclass

import pytest

from edu_common.config import ConfigError
from edu_common.settings import (
    ServiceSettings,
    declared,
    development_defaults,
    equals,
    file_stand_in,
    hours,
    loopback_url,
    refuse_development_defaults,
    secret,
    setting,
)


@dataclass(frozen=True, kw_only=True)
class Example(ServiceSettings):
    database: str = setting("MONGO_DATABASE", "example")
    places: int = setting("EX_PLACES", 4)
    ratio: float = setting("EX_RATIO", 0.5)
    strict: bool = setting("EX_STRICT", False)
    providers: tuple[str, ...] = setting("EX_PROVIDERS", ("smsc", "mobizon"))
    at: dt.time = setting("EX_AT", dt.time(18, 0))
    catch_up: dt.timedelta = setting("EX_CATCH_UP_HOURS", dt.timedelta(hours=24), parse=hours)
    pepper: bytes = secret("EX_PEPPER", b"dev-pepper")
    password: str | None = secret("EX_PASSWORD")
    optional: str | None = setting("EX_OPTIONAL")
    admin_password: str | None = secret("EX_ADMIN_PASSWORD", dev=equals("Admin-dev-1"))
    registry_url: str = setting("EX_REGISTRY_URL", "dev/population.json", dev=file_stand_in)


# Every development default of Example set to a deployment's value.
REAL = {
    "EX_PEPPER": "real",
    "MONGO_URL": "mongodb://db",
    "AMQP_URL": "amqp://mq",
    "IDENTITY_JWKS_URL": "http://identity-web:8000/.well-known/jwks.json",
    "IDENTITY_URL": "http://identity-web:8000",
    "EX_REGISTRY_URL": "https://registry.example.kz",
}


def test_defaults_when_nothing_is_set():
    s = Example.from_env(environ={})
    assert (s.database, s.places, s.ratio, s.strict) == ("example", 4, 0.5, False)
    assert s.providers == ("smsc", "mobizon") and s.at == dt.time(18, 0)
    assert s.timezone == "Asia/Almaty" and s.tz.key == "Asia/Almaty"
    assert s.password is None and s.optional is None


def test_values_are_read_by_their_declared_type():
    s = Example.from_env(
        environ={
            "EX_PLACES": "7",
            "EX_RATIO": "0.25",
            "EX_STRICT": "yes",
            "EX_PROVIDERS": "mobizon, smsc",
            "EX_AT": "09:30",
            "EX_CATCH_UP_HOURS": "2",
            "EX_PEPPER": "real",
            "TIMEZONE": "Asia/Aqtobe",
        }
    )
    assert (s.places, s.ratio, s.strict, s.providers) == (7, 0.25, True, ("mobizon", "smsc"))
    assert s.at == dt.time(9, 30) and s.catch_up == dt.timedelta(hours=2)
    assert s.pepper == b"real" and s.tz.key == "Asia/Aqtobe"


def test_a_secret_can_come_from_a_file(tmp_path):
    f = tmp_path / "pepper"
    f.write_text("from-a-file\n")
    assert Example.from_env(environ={"EX_PEPPER_FILE": str(f)}).pepper == b"from-a-file"
    with pytest.raises(ConfigError, match="EX_PEPPER_FILE"):
        Example.from_env(environ={"EX_PEPPER_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("name", "raw"),
    [("EX_PLACES", "four"), ("EX_STRICT", "maybe"), ("EX_AT", "6pm"), ("TIMEZONE", "Mars/Base")],
)
def test_a_bad_value_names_its_variable(name, raw):
    with pytest.raises(ConfigError, match=name):
        Example.from_env(environ={name: raw})


def test_a_bad_secret_is_named_but_never_shown():
    @dataclass(frozen=True, kw_only=True)
    class Numeric(ServiceSettings):
        pin: int = secret("EX_PIN", 1234)

    with pytest.raises(ConfigError) as raised:
        Numeric.from_env(environ={"EX_PIN": "s3cr3t-value"})
    assert "EX_PIN" in str(raised.value) and "s3cr3t-value" not in str(raised.value)


def test_secrets_are_never_printed():
    assert "dev-pepper" not in repr(Example())


def test_development_defaults_are_named_never_shown():
    # Issue 10 marks identity's addresses on this machine as development ones too.
    assert development_defaults(Example.from_env(environ={})) == [
        "MONGO_URL",
        "AMQP_URL",
        "IDENTITY_JWKS_URL",
        "IDENTITY_URL",
        "EX_PEPPER",
        "EX_REGISTRY_URL",
    ]
    assert development_defaults(Example.from_env(environ=REAL)) == []


def test_development_values_by_rule():
    # A JWKS URL on this machine is a development one even when written out by hand; a file
    # standing in for the registry too; a documented development password as well.
    local = Example.from_env(
        environ={
            **REAL,
            "IDENTITY_JWKS_URL": "http://localhost:9001/.well-known/jwks.json",
            "EX_REGISTRY_URL": "/srv/dev/population.json",
            "EX_ADMIN_PASSWORD": "Admin-dev-1",
        }
    )
    assert development_defaults(local) == [
        "IDENTITY_JWKS_URL",
        "EX_ADMIN_PASSWORD",
        "EX_REGISTRY_URL",
    ]
    # Unset is no development value: there is simply no bootstrap admin.
    assert "EX_ADMIN_PASSWORD" not in development_defaults(Example.from_env(environ=REAL))
    assert development_defaults(Example(**{"admin_password": "a-real-one"})) == [
        "MONGO_URL",
        "AMQP_URL",
        "IDENTITY_JWKS_URL",
        "IDENTITY_URL",
        "EX_PEPPER",
        "EX_REGISTRY_URL",
    ]


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8001", True),
        ("http://127.0.0.2/x", True),
        ("http://localhost/x", True),
        ("http://[::1]:8001/", True),
        ("http://identity-web:8000", False),
        ("https://identity.edu.kz/.well-known/jwks.json", False),
        ("not a url", False),
    ],
)
def test_loopback_urls(url, local):
    assert loopback_url(url) is local


@pytest.mark.parametrize(
    ("url", "stand_in"),
    [
        ("dev/population.json", True),
        ("file:///srv/population.json", True),
        ("https://registry.example.kz", False),
        ("http://registry:8080/api", False),
    ],
)
def test_file_stand_ins(url, stand_in):
    assert file_stand_in(url) is stand_in


def test_production_refuses_development_defaults_by_name_never_by_value():
    with pytest.raises(ConfigError) as raised:
        Example.from_env(environ={**REAL, "EX_PEPPER": "", "EDU_ENV": "production"})
    message = str(raised.value)
    assert "EX_PEPPER" in message and "dev-pepper" not in message
    assert "MONGO_URL" not in message  # set: not named
    with pytest.raises(ConfigError, match="EX_ADMIN_PASSWORD") as raised:
        Example.from_env(
            environ={**REAL, "EX_ADMIN_PASSWORD": "Admin-dev-1", "EDU_ENV": "production"}
        )
    assert "Admin-dev-1" not in str(raised.value)


def test_production_starts_with_everything_set_and_development_is_the_default():
    s = Example.from_env(environ={**REAL, "EDU_ENV": "production"})
    assert s.pepper == b"real"
    assert Example.from_env(environ={}).pepper == b"dev-pepper"  # EDU_ENV unset: development
    assert Example.from_env(environ={"EDU_ENV": "development"}).pepper == b"dev-pepper"
    refuse_development_defaults(Example(), environ={})  # development: nothing refused


def test_an_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="EDU_ENV"):
        Example.from_env(environ={**REAL, "EDU_ENV": "prod"})


def test_refusal_works_on_settings_built_directly():
    with pytest.raises(ConfigError, match="EX_PEPPER"):
        refuse_development_defaults(Example(), environ={"EDU_ENV": "production"})


def test_every_declared_variable_is_listed_once():
    names = [d.env for d in declared(Example)]
    assert len(names) == len(set(names))
    assert {"MONGO_URL", "AMQP_URL", "IDENTITY_JWKS_URL", "TIMEZONE", "EX_PLACES"} <= set(names)


def test_settings_are_frozen_and_can_be_built_directly():
    s = Example(places=2)
    assert s.places == 2
    with pytest.raises(FrozenInstanceError):
        s.places = 3  # type: ignore[misc]


def test_mutable_defaults_are_refused():
    with pytest.raises(TypeError):
        setting("EX_LIST", [])
