"""The Kubernetes manifests run in production: each Deployment says EDU_ENV=production and sets
every setting whose default is a development value, so no process refuses to start (and none
runs with a public development secret). Read from the manifests themselves: each container's
environment is assembled as Kubernetes would (env, envFrom, $(VAR) references), with what comes
from Secrets and from the platform team's ConfigMap standing for values set there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from applicant.settings import Settings as ApplicantSettings
from edu_common.config import ConfigError
from gateway import config as gateway_config
from identity.settings import Settings as IdentitySettings
from kindergarten.settings import Settings as KindergartenSettings
from sms_notify.settings import Settings as NotifySettings

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
LOADERS = {
    "identity": IdentitySettings.from_env,
    "applicant": ApplicantSettings.from_env,
    "kindergarten": KindergartenSettings.from_env,
    "sms-notify": NotifySettings.from_env,
    "gateway": gateway_config.load,
}
# Values that come from outside these files: the platform team's endpoints and every Secret.
OUTSIDE = "set-in-the-cluster"
PLATFORM = {
    "mongo-hosts": "mongo-0.mongo.platform.svc:27017",
    "mongo-options": "replicaSet=rs0",
    "amqp-scheme": "amqps",
    "amqp-hostport": "rabbitmq.platform.svc:5671",
    "amqp-vhost": "edu",
}


def _documents() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name in {"kustomization.yaml", "example-secrets.yaml"}:
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def _containers():
    docs = _documents()
    config_maps = {
        d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"
    }
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        for c in d["spec"]["template"]["spec"]["containers"]:
            yield d["metadata"]["name"], c, config_maps


def _environment(container: dict, config_maps: dict) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]])
        else:
            raise AssertionError("secrets come as files or single keys, never envFrom")
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = re.sub(
                r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), str(item["value"])
            )
        else:
            ref = item["valueFrom"]
            cm = ref.get("configMapKeyRef")
            if cm and cm["name"] in config_maps:
                env[item["name"]] = config_maps[cm["name"]][cm["key"]]
            elif cm:
                env[item["name"]] = PLATFORM.get(cm["key"], OUTSIDE)
            else:
                env[item["name"]] = OUTSIDE
    # NAME_FILE: the value is in a mounted file (a Secret); it stands for a value set there.
    for name in [n for n in env if n.endswith("_FILE")]:
        env.setdefault(name[: -len("_FILE")], OUTSIDE)
        del env[name]
    return {k: str(v) for k, v in env.items()}


CONTAINERS = list(_containers())


def test_every_service_has_deployments_here():
    names = {name for name, _, _ in CONTAINERS}
    assert {f"{s}-web" for s in LOADERS if s != "gateway"} <= names
    assert "gateway" in names


@pytest.mark.parametrize(
    ("deployment", "container", "config_maps"), CONTAINERS, ids=[n for n, _, _ in CONTAINERS]
)
def test_production_starts_on_the_manifests_settings(deployment, container, config_maps):
    env = _environment(container, config_maps)
    assert env.get("EDU_ENV") == "production", f"{deployment} does not say EDU_ENV=production"
    service = next(s for s in sorted(LOADERS, key=len, reverse=True) if deployment.startswith(s))
    try:
        LOADERS[service](environ=env)
    except ConfigError as exc:
        pytest.fail(f"{deployment}: {exc}")


def test_the_check_sees_a_development_default():
    with pytest.raises(ConfigError, match="DOOR_CODE_SECRET"):
        KindergartenSettings.from_env(
            environ={
                "EDU_ENV": "production",
                "MONGO_URL": "mongodb://db",
                "AMQP_URL": "amqp://mq",
                "IDENTITY_JWKS_URL": "http://identity-web:8000/.well-known/jwks.json",
                "IDENTITY_URL": "http://identity-web:8000",
                "POPULATION_REGISTRY_URL": "https://registry.example.kz",
            }
        )
