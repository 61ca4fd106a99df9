"""Inspect and replay dead letters: `python -m edu_common.deadletters list|replay QUEUE`.

QUEUE is a consumer queue such as `sms-notify.deliver-code`; its parked messages are in
`QUEUE.dead`, each with the error that parked it (`x-error`) and how often it was tried.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import pika

from edu_common.config import DEV_AMQP_URL


def _channel(url: str):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    return conn, conn.channel()


def peek(url: str, queue: str, limit: int = 20) -> list[dict]:
    """The first `limit` dead letters, left where they are."""
    conn, ch = _channel(url)
    found = []
    try:
        for _ in range(limit):
            method, props, body = ch.basic_get(f"{queue}.dead", auto_ack=False)
            if method is None:
                break
            headers = props.headers or {}
            found.append(
                {
                    "message_id": props.message_id,
                    "type": props.type,
                    "error": headers.get("x-error"),
                    "attempts": headers.get("x-attempt"),
                    "dead_at": headers.get("x-dead-at"),
                    "bytes": len(body),
                }
            )
        # Unacknowledged gets go back to the queue, in order, when the channel closes.
    finally:
        conn.close()
    return found


def replay(url: str, queue: str, limit: int | None = None) -> int:
    """Move dead letters back to their queue for another round of attempts."""
    conn, ch = _channel(url)
    ch.confirm_delivery()
    moved = 0
    try:
        while limit is None or moved < limit:
            method, props, body = ch.basic_get(f"{queue}.dead", auto_ack=False)
            if method is None:
                break
            headers = {k: v for k, v in (props.headers or {}).items() if not k.startswith("x-")}
            props.headers = {**headers, "x-replayed": True}
            ch.basic_publish("", queue, body, props)  # confirmed before the ack below
            ch.basic_ack(method.delivery_tag)
            moved += 1
    finally:
        conn.close()
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("queue")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--amqp-url", default=os.environ.get("AMQP_URL", DEV_AMQP_URL))
    args = parser.parse_args(argv)
    if args.action == "list":
        for row in peek(args.amqp_url, args.queue, args.limit or 20):
            print(json.dumps(row, ensure_ascii=False))
    else:
        print(f"replayed {replay(args.amqp_url, args.queue, args.limit)} message(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
