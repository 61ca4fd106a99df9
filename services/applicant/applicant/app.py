"""applicant's composition root. Its domain arrives with its own issue; the process, probes,
metrics, OpenAPI document and database are in place so it runs and deploys like the others."""

from flask import Flask

from edu_common import bus, consumer, mongo, outbox
from edu_common.config import connections
from edu_common.web.app import create_service_app


def create_app() -> Flask:
    where = connections("applicant")
    db = mongo.database(where["mongo_url"], where["database"])
    amqp_url = where["amqp_url"]
    mongo.ensure_indexes(db, [*outbox.INDEXES, *consumer.INDEXES])
    app, _api = create_service_app(
        service="applicant",
        title="applicant",
        description="Colleges, specialties, admission applications and student services.",
        readiness={"database": lambda: mongo.ping(db)},
        reported={"broker": lambda: bus.broker_answers(amqp_url)},
    )
    return app
