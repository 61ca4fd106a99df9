"""Settings from the environment: every variable keeps its name, the time zone is the shared
TIMEZONE, and a bad value names its variable."""

import pytest

from edu_common.config import ConfigError
from edu_common.settings import development_defaults
from kindergarten.settings import DEV_DOOR_CODE_SECRET, Settings


def test_defaults_are_domain_md_numbers_and_the_one_time_zone():
    s = Settings.from_env(environ={})
    assert (s.database, s.max_kindergartens, s.confirm_business_days) == ("kindergarten", 4, 2)
    assert s.timezone == "Asia/Almaty" and s.tz.key == "Asia/Almaty"
    assert s.door_code_secret == DEV_DOOR_CODE_SECRET
    assert "DOOR_CODE_SECRET" in development_defaults(s)
    assert DEV_DOOR_CODE_SECRET not in repr(s)


def test_variables_are_read_by_their_names():
    s = Settings.from_env(
        environ={
            "MONGO_DATABASE": "kg_other",
            "KG_MAX_KINDERGARTENS": "2",
            "KG_FREEZE_FROM": "07-15",
            "TIMEZONE": "Asia/Aqtobe",
            "POPULATION_REGISTRY_URL": "https://registry.example.kz",
            "DOOR_CODE_SECRET": "from-a-secret",
        }
    )
    assert (s.database, s.max_kindergartens, s.freeze_from) == ("kg_other", 2, "07-15")
    assert s.tz.key == "Asia/Aqtobe" and s.registry_url == "https://registry.example.kz"
    assert "DOOR_CODE_SECRET" not in development_defaults(s)


@pytest.mark.parametrize(
    ("name", "value"), [("KG_STOP_LIST_DAYS", "ten"), ("TIMEZONE", "Mars/Olympus")]
)
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(environ={name: value})
