"""kindergarten's worker: relays its outbox; it subscribes to events once its domain needs them."""

from edu_common import mongo, worker
from edu_common.config import connections
from edu_common.envelope import exchange_name


def main() -> None:
    where = connections("kindergarten")
    worker.run(
        service="kindergarten",
        db=mongo.database(where["mongo_url"], where["database"]),
        amqp_url=where["amqp_url"],
        subscriptions=[],
        exchanges=[exchange_name("kindergarten")],
    )


if __name__ == "__main__":
    main()
