"""A service as every service is built (edu_common's create_service_app: TRUSTED_PROXIES and
all), answering any path with the client address it sees. For the tests of the hops between
client, proxies, gateway and services.

    gunicorn -c python:edu_common.gunicorn_conf --pythonpath gateway/tests \
        'service_stub:create_app()'
"""

from __future__ import annotations

from flask import jsonify, request

from edu_common.web.app import create_service_app


def create_app():
    app, _api = create_service_app(service="service_stub", title="service stub")

    @app.route("/<path:anything>", methods=["GET", "POST"])
    def echo(anything):
        return jsonify(
            remote_addr=request.remote_addr,
            x_forwarded_for=request.headers.get("X-Forwarded-For"),
            scheme=request.scheme,
        )

    return app
