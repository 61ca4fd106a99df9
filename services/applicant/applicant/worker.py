"""applicant's worker: relays its outbox; it subscribes to events once its domain needs them."""

from edu_common import mongo, worker
from edu_common.config import DEV_AMQP_URL, DEV_MONGO_URL, env
from edu_common.envelope import exchange_name


def main() -> None:
    worker.run(
        service="applicant",
        db=mongo.database(env("MONGO_URL", DEV_MONGO_URL), env("MONGO_DATABASE", "applicant")),
        amqp_url=env("AMQP_URL", DEV_AMQP_URL),
        subscriptions=[],
        exchanges=[exchange_name("applicant")],
    )


if __name__ == "__main__":
    main()
