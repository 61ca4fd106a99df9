"""identity's worker: relays its outbox (it consumes no other service's events yet)."""

from edu_common import mongo, worker
from identity import events, store
from identity.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    worker.run(
        service="identity",
        db=mongo.database(settings.mongo_url, settings.database),
        amqp_url=settings.amqp_url,
        bindings=[],
        exchanges=events.EXCHANGES,
        indexes=store.INDEXES,
    )


if __name__ == "__main__":
    main()
