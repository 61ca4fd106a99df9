"""The limits hold when two requests race for the last place."""

import threading

import pytest

from services.kindergarten.tests import kg_children_fixtures as kf

pytestmark = pytest.mark.integration
kids = kf.kids


def race(*calls):
    """Run the calls at the same moment; their answers in order."""
    start = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(i, call):
        start.wait()
        answers[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


@pytest.mark.parametrize("attempt", range(3))
def test_two_parents_clicks_cannot_both_take_the_fifth_place(kids, attempt):
    child = kids.enrol("Аружан")
    for who in ("father", "granny", "uncle"):
        assert kids.add_escort(child, who).status_code == 201
    answers = race(lambda: kids.add_escort(child, "aunt"), lambda: kids.add_escort(child, "cousin"))
    codes = sorted(a.status_code for a in answers)
    assert codes[0] == 201 and codes[1] in (409, 422), [a.json for a in answers]
    listed = kids.client.get(f"/children/{child}/escorts", headers=kids.headers("mother"))
    assert len(listed.json["items"]) == 5


@pytest.mark.parametrize("attempt", range(3))
def test_two_doors_cannot_both_mark_the_child_in(kids, attempt):
    child = kids.enrol("Аружан")
    assert kids.add_escort(child, "granny").status_code == 201
    code = kids.door_code()["payload"]
    answers = race(
        lambda: kids.mark(child, "granny", code=code), lambda: kids.mark(child, "mother", code=code)
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.json for a in answers]
    sheet = kids.client.get(f"/children/{child}/attendance", headers=kids.headers("mother")).json
    assert [m["direction"] for m in sheet["days"][0]["marks"]] == ["in"]
