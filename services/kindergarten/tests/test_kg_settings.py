"""Settings from the environment: every variable keeps its name, the time zone is the shared
TIMEZONE, and a bad value names its variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

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


PRODUCTION_READY = {
    "EDU_ENV": "production",
    "MONGO_URL": "mongodb://mongo.edu.invalid:27017/?replicaSet=rs0",
    "AMQP_URL": "amqps://kindergarten:pw@rabbit.edu.invalid:5671/edu",
    "IDENTITY_JWKS_URL": "http://identity.edu.invalid:8000/.well-known/jwks.json",
    "IDENTITY_URL": "http://identity.edu.invalid:8000",
    "POPULATION_REGISTRY_URL": "https://registry.edu.invalid",
    "DOOR_CODE_SECRET": "from-a-secret",
}


def test_production_names_the_development_values_of_kindergarten():
    Settings.from_env(environ=PRODUCTION_READY)  # everything set: accepted
    for name in ("POPULATION_REGISTRY_URL", "DOOR_CODE_SECRET"):
        dev = dict(PRODUCTION_READY)
        del dev[name]  # back to the development default
        with pytest.raises(ConfigError, match=name) as refused:
            Settings.from_env(environ=dev)
        assert DEV_DOOR_CODE_SECRET not in str(refused.value)
    refused = {**PRODUCTION_READY, "POPULATION_REGISTRY_URL": "/srv/population.json"}
    with pytest.raises(ConfigError, match="POPULATION_REGISTRY_URL"):
        Settings.from_env(environ=refused)  # any file stands in for the registry


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-m", "kindergarten.worker"],
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:edu_common.gunicorn_conf",
         "kindergarten.app:create_app()"],
    ],
    ids=["worker", "web"],
)  # fmt: skip
def test_production_processes_refuse_to_start_on_development_defaults(argv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_READY}
    env.update(EDU_ENV="production", PORT="0", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    for name in ("POPULATION_REGISTRY_URL", "DOOR_CODE_SECRET", "MONGO_URL"):
        assert name in done.stderr, done.stderr[-2000:]
    assert DEV_DOOR_CODE_SECRET not in done.stderr and "population.json" not in done.stderr
    assert "Booting worker" not in done.stderr  # refused before serving


def test_production_web_process_starts_with_everything_set(
    mongo_url, mongo_client, unused_port, tmp_path, wait_until
):
    port = str(unused_port)
    env = {
        **os.environ,
        **PRODUCTION_READY,
        "MONGO_URL": mongo_url,  # a deployment's database (not the development default)
        "MONGO_DATABASE": f"kg_prod_{port}",
        "PORT": port,
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    argv = [str(Path(sys.executable).parent / "gunicorn"), "-c", "python:edu_common.gunicorn_conf",
            "kindergarten.app:create_app()"]  # fmt: skip
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)

    def serving() -> bool:
        assert proc.poll() is None, log.read_text()[-2000:]
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(serving, timeout=60, message="kindergarten in production")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        mongo_client.drop_database(env["MONGO_DATABASE"])
