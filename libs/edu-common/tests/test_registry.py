import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from edu_common.kz import make_iin
from edu_common.registry import (
    HttpRegistry,
    JsonFileRegistry,
    Person,
    PopulationRegistry,
    RegistryError,
    RegistryUnavailable,
    answering,
    registry_from_url,
)
from edu_common.web.problems import Problem

MOTHER = "950423451048"
FATHER = make_iin(dt.date(1990, 1, 15), "male", 1)
OLDER = make_iin(dt.date(2021, 3, 2), "female", 1)
YOUNGER = make_iin(dt.date(2023, 5, 17), "male", 1)
BROKEN = make_iin(dt.date(1980, 1, 1), "male", 1)  # the fake HTTP registry fails for this one
SLOW = make_iin(dt.date(1980, 1, 2), "male", 1)  # ... and answers too late for this one


def _record(iin, name, birth_date, sex, phones=(), parents=()):
    return {
        "iin": iin,
        "surname": "Ахметова" if sex == "female" else "Ахметов",
        "name": name,
        "patronymic": "Ерланқызы" if sex == "female" else "Ерланұлы",
        "birth_date": birth_date,
        "sex": sex,
        "citizenship": "KZ",
        "registered_address": "г. Астана, район Есиль, ул. Сыганак, д. 10, кв. 25",
        "actual_address": "г. Астана, район Есиль, ул. Сыганак, д. 10, кв. 25",
        "document": {
            "type": "birth_certificate" if parents else "id_card",
            "number": "045678912",
            "issued_at": "2020-01-10",
            "issuer": "МВД РК",
        },
        "phones": list(phones),
        "parents": list(parents),
    }


PEOPLE = [
    _record(MOTHER, "Айгерим", "1995-04-23", "female", phones=["+77010000001"]),
    _record(FATHER, "Ерлан", "1990-01-15", "male", phones=["+77010000002", "+77470000002"]),
    _record(YOUNGER, "Алихан", "2023-05-17", "male", parents=[MOTHER, FATHER]),
    _record(OLDER, "Амина", "2021-03-02", "female", parents=[MOTHER]),
]


@pytest.fixture
def population_file(tmp_path):
    path = tmp_path / "population.json"
    path.write_text(
        json.dumps({"generated_for": "2026-09-01", "people": PEOPLE}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def test_json_registry_finds_person(population_file):
    registry = JsonFileRegistry(population_file)
    assert isinstance(registry, PopulationRegistry)
    person = registry.find_person(MOTHER)
    assert person is not None
    assert (person.surname, person.name, person.sex) == ("Ахметова", "Айгерим", "female")
    assert person.birth_date == dt.date(1995, 4, 23)
    assert person.document["type"] == "id_card"
    assert person.age_on(dt.date(2026, 4, 22)) == 30
    assert person.age_on(dt.date(2026, 4, 23)) == 31
    assert Person.from_dict(person.to_dict()) == person


def test_json_registry_unknown_iin(population_file):
    registry = JsonFileRegistry(population_file)
    assert registry.find_person(make_iin(dt.date(1970, 1, 1), "male", 1)) is None
    assert registry.find_person("not an iin") is None
    assert registry.phones_for("not an iin") == []
    assert registry.children_of("not an iin") == []


def test_json_registry_phones_and_children(population_file):
    registry = JsonFileRegistry(population_file)
    assert registry.phones_for(FATHER) == ["+77010000002", "+77470000002"]
    assert registry.phones_for(YOUNGER) == []
    assert [c.iin for c in registry.children_of(MOTHER)] == [OLDER, YOUNGER]  # oldest first
    assert [c.iin for c in registry.children_of(FATHER)] == [YOUNGER]
    assert registry.children_of(YOUNGER) == []


def test_json_registry_rejects_malformed_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"people": [{"iin": MOTHER}]}), encoding="utf-8")
    with pytest.raises(RegistryError):
        JsonFileRegistry(path)


def test_registry_from_url_picks_file(population_file):
    for url in (population_file.as_uri(), str(population_file)):
        registry = registry_from_url(url)
        assert isinstance(registry, JsonFileRegistry)
        assert registry.find_person(MOTHER) is not None


def test_registry_from_url_picks_http():
    registry = registry_from_url("https://registry.example/api/", timeout=2.5)
    assert isinstance(registry, HttpRegistry)
    assert registry.base_url == "https://registry.example/api"
    assert registry.timeout == 2.5


def test_registry_from_url_rejects_other_schemes():
    with pytest.raises(ValueError):
        registry_from_url("ftp://registry.example/people.json")


class _FakeRegistryHandler(BaseHTTPRequestHandler):
    by_iin = {p["iin"]: p for p in PEOPLE}
    release = threading.Event()

    def do_GET(self):
        parts = self.path.strip("/").split("/")  # api, persons, iin[, tail]
        if parts[:2] != ["api", "persons"] or len(parts) not in (3, 4):
            return self._send(404, {"error": "not found"})
        iin, tail = parts[2], parts[3] if len(parts) == 4 else ""
        if iin == BROKEN:
            return self._send(503, {"error": "maintenance"})
        if iin == SLOW:
            self.release.wait(5)
            return self._send(404, {})
        person = self.by_iin.get(iin)
        if person is None:
            return self._send(404, {"error": "unknown IIN"})
        if tail == "phones":
            return self._send(200, {"phones": person["phones"]})
        if tail == "children":
            return self._send(200, [p for p in PEOPLE if iin in p["parents"]])
        return self._send(200, person)

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def http_registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRegistryHandler)
    server.daemon_threads = True
    _FakeRegistryHandler.release.clear()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield HttpRegistry(f"http://127.0.0.1:{server.server_address[1]}/api/", timeout=2)
    _FakeRegistryHandler.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


def test_http_registry_finds_person(http_registry):
    person = http_registry.find_person(MOTHER)
    assert person == Person.from_dict(PEOPLE[0])
    assert http_registry.phones_for(FATHER) == ["+77010000002", "+77470000002"]
    assert {c.iin for c in http_registry.children_of(MOTHER)} == {OLDER, YOUNGER}


def test_http_registry_unknown_iin(http_registry):
    unknown = make_iin(dt.date(1970, 1, 1), "male", 1)
    assert http_registry.find_person(unknown) is None
    assert http_registry.phones_for(unknown) == []
    assert http_registry.children_of(unknown) == []
    assert http_registry.find_person("../../etc") is None


def test_http_registry_server_error(http_registry):
    with pytest.raises(RegistryUnavailable):
        http_registry.find_person(BROKEN)
    with pytest.raises(RegistryUnavailable):
        http_registry.phones_for(BROKEN)


def test_http_registry_timeout(http_registry):
    http_registry.timeout = 0.2
    with pytest.raises(RegistryUnavailable):
        http_registry.find_person(SLOW)


def test_http_registry_connection_refused():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRegistryHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens on this port any more
    with pytest.raises(RegistryUnavailable):
        HttpRegistry(f"http://127.0.0.1:{port}", timeout=2).find_person(MOTHER)


def test_answering_turns_an_outage_into_the_503_problem():
    with pytest.raises(Problem) as caught, answering():
        raise RegistryUnavailable("down")
    assert caught.value.status == 503 and caught.value.code == "registry_unavailable"
    assert caught.value.headers == {"Retry-After": "30"}
    with pytest.raises(RegistryError), answering():  # only an outage, unless told
        raise RegistryError("odd answer")
    with pytest.raises(Problem), answering(RegistryError):
        raise RegistryError("odd answer")
    with answering():
        pass
