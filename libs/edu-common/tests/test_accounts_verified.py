import pytest

from edu_common import accounts
from edu_common.web.problems import Problem


def test_a_copy_without_the_field_is_verified_and_false_is_not():
    assert accounts.is_verified({}) and accounts.is_verified({"verified": True})
    assert not accounts.is_verified({"verified": False})
    account = {"_id": "a"}
    assert accounts.require_verified(account) is account
    with pytest.raises(Problem) as caught:
        accounts.require_verified({"verified": False}, "Show your document first.")
    assert (caught.value.status, caught.value.code) == (403, "account_not_verified")
    assert caught.value.detail == "Show your document first."
