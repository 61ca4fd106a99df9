import datetime as dt

import pytest

from edu_common.clock import utcnow
from edu_common.files import FileStore, Upload, check, safe_name, sniff
from edu_common.web.problems import Problem

PDF = b"%PDF-1.7\n..."
PNG = b"\x89PNG\r\n\x1a\n...."
JPEG = b"\xff\xd8\xff\xe0...."


def test_sniff_by_magic_bytes():
    assert sniff(PDF) == "application/pdf"
    assert sniff(PNG) == "image/png"
    assert sniff(JPEG) == "image/jpeg"
    assert sniff(b"GIF89a") is None


@pytest.mark.parametrize(
    ("upload", "status", "code"),
    [
        (Upload("a.pdf", "application/pdf", b""), 422, "file_empty"),
        (Upload("a.pdf", "application/pdf", PDF * 100), 413, "file_too_large"),
        (Upload("a.gif", "image/gif", b"GIF89a...."), 415, "file_type_not_allowed"),
        (Upload("a.png", "image/png", PDF), 415, "file_type_mismatch"),
    ],
)
def test_check_refuses(upload, status, code):
    with pytest.raises(Problem) as caught:
        check(upload, 512)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.extra["invalid_params"][0]["name"] == "file"


def test_check_names_the_services_codes_and_field():
    with pytest.raises(Problem) as caught:
        check(Upload("a", "", b"xx"), 512, field="attachment", code="attachment", not_allowed="No.")
    assert caught.value.code == "attachment_type_not_allowed"
    assert caught.value.extra["invalid_params"][0]["name"] == "attachment"
    assert caught.value.detail == "No."


def test_check_gives_the_real_type():
    assert check(Upload("a", "", PNG), 512) == "image/png"
    assert check(Upload("a", "application/octet-stream", PDF), 512) == "application/pdf"
    assert check(Upload("a", "application/pdf; charset=x", PDF), 512) == "application/pdf"


def test_safe_name():
    assert safe_name('../../etc/pa\x00ss"wd') == "pa_ss_wd"
    assert safe_name("C:\\docs\\scan.pdf") == "scan.pdf"
    assert safe_name("") == "file"
    assert len(safe_name("x" * 300)) == 100


def test_store_put_get_delete(mongo_db):
    files = FileStore(mongo_db, "docs")
    view = files.put(Upload("a/scan.pdf", "application/pdf", PDF), "application/pdf", {"by": "u1"})
    assert view["filename"] == "scan.pdf" and view["size"] == len(PDF)
    assert files.get(view["file_id"]) == ("scan.pdf", "application/pdf", PDF)
    assert files.get(view["file_id"], {"by": "u1"})[2] == PDF
    for bad, owner in ((view["file_id"], {"by": "u2"}), ("nope", None), ("0" * 24, None)):
        with pytest.raises(Problem) as caught:
            files.get(bad, owner)
        assert caught.value.status == 404
    assert files.delete(view["file_id"]) is True
    assert files.delete(view["file_id"]) is False
    assert files.delete("nope") is False


def test_orphans_removes_only_unknown_old_files(mongo_db):
    files = FileStore(mongo_db, "docs")
    kept = files.put(Upload("a.pdf", "", PDF), "application/pdf", {"n": 1})
    lost = files.put(Upload("b.pdf", "", PDF), "application/pdf", {"n": 2})
    later = utcnow() + dt.timedelta(minutes=1)
    assert files.orphans(utcnow() - dt.timedelta(hours=1), lambda f: False) == 0
    assert files.orphans(later, lambda f: f["metadata"]["n"] == 1) == 1
    files.get(kept["file_id"])
    with pytest.raises(Problem):
        files.get(lost["file_id"])
