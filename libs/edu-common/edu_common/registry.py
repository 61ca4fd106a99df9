"""Adapter to the population registry (ГБД ФЛ) and the mobile-citizens database (БМГ).

Both are external agencies. Services depend on the ``PopulationRegistry`` protocol; which
implementation they get is a setting (see ``registry_from_url``): a local JSON file of
generated people in development and tests, an HTTP service elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

import requests

from edu_common.kz.iin import is_valid_iin
from edu_common.web.problems import Problem

DEFAULT_TIMEOUT = 5.0


class RegistryError(Exception):
    """The registry answered in a way this adapter does not understand."""


class RegistryUnavailable(RegistryError):
    """The registry cannot be reached or failed on its side; worth retrying later."""


UNAVAILABLE_DETAIL = "The population registry does not answer. Try again later."
RETRY_AFTER = "30"


@contextmanager
def answering(
    catch: type[Exception] | tuple[type[Exception], ...] = RegistryUnavailable,
) -> Iterator[None]:
    """Turn a registry outage (``catch``: ``RegistryUnavailable`` by default, ``RegistryError``
    to treat any bad answer alike) inside the block into the 503 ``registry_unavailable``
    problem with a ``Retry-After``::

        with registry.answering():
            person = deps.registry.find_person(iin)
    """
    try:
        yield
    except catch as exc:
        raise Problem(
            503, "registry_unavailable", UNAVAILABLE_DETAIL, headers={"Retry-After": RETRY_AFTER}
        ) from exc


@dataclass(frozen=True)
class Person:
    iin: str
    surname: str
    name: str
    patronymic: str | None
    birth_date: dt.date
    sex: str
    citizenship: str
    registered_address: str
    actual_address: str
    document: dict[str, Any]  # type, number, issued_at, issuer
    phones: list[str] = field(default_factory=list)  # E.164, from the mobile-citizens database
    parents: list[str] = field(default_factory=list)  # parents' IINs

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        try:
            return cls(
                iin=data["iin"],
                surname=data["surname"],
                name=data["name"],
                patronymic=data.get("patronymic") or None,
                birth_date=dt.date.fromisoformat(data["birth_date"]),
                sex=data["sex"],
                citizenship=data["citizenship"],
                registered_address=data["registered_address"],
                actual_address=data.get("actual_address") or data["registered_address"],
                document=dict(data["document"]),
                phones=list(data.get("phones") or []),
                parents=list(data.get("parents") or []),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"malformed person record: {exc!r}") from exc

    def to_dict(self) -> dict[str, Any]:
        return {
            "iin": self.iin,
            "surname": self.surname,
            "name": self.name,
            "patronymic": self.patronymic,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "citizenship": self.citizenship,
            "registered_address": self.registered_address,
            "actual_address": self.actual_address,
            "document": dict(self.document),
            "phones": list(self.phones),
            "parents": list(self.parents),
        }

    def age_on(self, day: dt.date) -> int:
        """Full years on ``day``."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


@runtime_checkable
class PopulationRegistry(Protocol):
    def find_person(self, iin: str) -> Person | None: ...

    def phones_for(self, iin: str) -> list[str]: ...

    def children_of(self, iin: str) -> list[Person]: ...


class JsonFileRegistry:
    """The registry over a local JSON file such as ``dev/population.json``.

    The file is read once; it holds ``{"people": [...]}`` (or just the list)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self.path.open(encoding="utf-8") as f:
            data = json.load(f)
        records = data["people"] if isinstance(data, dict) else data
        people = [Person.from_dict(record) for record in records]
        self._by_iin = {person.iin: person for person in people}
        self._children: dict[str, list[Person]] = {}
        for person in sorted(people, key=lambda p: (p.birth_date, p.iin)):
            for parent in person.parents:
                self._children.setdefault(parent, []).append(person)

    def find_person(self, iin: str) -> Person | None:
        return self._by_iin.get(iin)

    def phones_for(self, iin: str) -> list[str]:
        person = self._by_iin.get(iin)
        return list(person.phones) if person else []

    def children_of(self, iin: str) -> list[Person]:
        return list(self._children.get(iin, []))


class HttpRegistry:
    """The registry behind an HTTP service.

    ``GET {base}/persons/{iin}`` gives a person record (the same fields as the JSON file),
    ``GET {base}/persons/{iin}/phones`` a list of E.164 numbers (or ``{"phones": [...]}``),
    ``GET {base}/persons/{iin}/children`` a list of person records (or ``{"children": [...]}``).
    404 means the registry does not know the IIN.
    """

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str) -> Any | None:
        url = f"{self.base_url}{path}"
        try:
            response = requests.get(url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RegistryUnavailable(f"population registry unreachable: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 500:
            raise RegistryUnavailable(f"population registry failed: HTTP {response.status_code}")
        if response.status_code != 200:
            raise RegistryError(f"population registry answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise RegistryError("population registry answered with invalid JSON") from exc

    def _person_path(self, iin: str, tail: str = "") -> str | None:
        # A malformed IIN cannot be in the registry; it is not worth a request.
        if not is_valid_iin(iin):
            return None
        return f"/persons/{quote(iin, safe='')}{tail}"

    def find_person(self, iin: str) -> Person | None:
        path = self._person_path(iin)
        data = self._get(path) if path else None
        return Person.from_dict(data) if data is not None else None

    def phones_for(self, iin: str) -> list[str]:
        path = self._person_path(iin, "/phones")
        data = self._get(path) if path else None
        if isinstance(data, dict):
            data = data.get("phones")
        return [str(phone) for phone in data or []]

    def children_of(self, iin: str) -> list[Person]:
        path = self._person_path(iin, "/children")
        data = self._get(path) if path else None
        if isinstance(data, dict):
            data = data.get("children")
        return [Person.from_dict(record) for record in data or []]


def registry_from_url(url: str, timeout: float = DEFAULT_TIMEOUT) -> PopulationRegistry:
    """The registry named by a setting: ``file:///abs/path.json``, a plain file path, or
    ``http(s)://host/base``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return HttpRegistry(url, timeout=timeout)
    if scheme == "file":
        return JsonFileRegistry(url2pathname(parts.path))
    if scheme == "":
        return JsonFileRegistry(url)
    raise ValueError(f"unsupported population registry URL: {url!r}")
