from flask import Flask

from edu_common.testing import TokenMinter
from edu_common.web import auth
from edu_common.web.views import ServiceViews


class FakeDeps:
    db = None


def test_views_find_the_deps_and_the_caller():
    views: ServiceViews[FakeDeps] = ServiceViews("svc")
    app = Flask("t")
    wired = FakeDeps()
    app.extensions["svc"] = wired
    minter = TokenMinter()
    auth.configure(minter.verifier)
    with app.test_request_context(headers=minter.headers("acc-1", roles=["citizen"])):
        assert views.deps() is wired
        assert views.me().account_id == "acc-1"
        assert views.caller_id() == "acc-1"
    assert callable(views.once(lambda: None))
