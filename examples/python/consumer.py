#!/usr/bin/env python3
"""A consumer of an N3 callback site's MIS queue, in Python with boto3 only.

The same steps in any language (see README, "Consuming from any language"):
  1. ReceiveMessage, long polling (WaitTimeSeconds), with the message attributes and ApproximateReceiveCount;
  2. read the envelope's `version` first: a version this consumer does not know is left on the queue
     (not deleted) and reported; it reaches the dead-letter queue after 5 receives, which is alarmed;
  3. take the payload inline, or resolve the claim check (`payloadRef`): GetObject, then refuse the
     object unless its size and SHA-256 match;
  4. validate against the published JSON Schemas (docs/schemas/) when the `jsonschema` package
     happens to be importable (nothing else is needed to run this file);
  5. do the work once per messageId (delivery is at least once): here a local SQLite table of
     processed ids, written in the same transaction as the work;
  6. DeleteMessage.
Fields this consumer does not know are ignored, in the envelope and in the payload. A message the sender
simulator sent (`n3-callback simulate`, never N3) carries `simulation` in its envelope: this consumer reports
it ("simulation": its run id) and, with --drop-simulations (what a production MIS does), deletes it undone.
A message an operator put on the queue again (`n3-callback replay`) carries `redelivery`: it is handled like
any other, once per messageId (a "duplicate" if done before), and reported ("redelivery": the replay's id).

Against `npm start` (finds the queue through /_local/info, like every tool of the project):
    python3 examples/python/consumer.py                 # --base, else N3_CALLBACK_BASE, else PORT, else :3000
Against AWS (credentials and region from the usual AWS chain; the stack output QueueUrl):
    python3 examples/python/consumer.py --queue-url https://sqs.eu-central-1.amazonaws.com/123456789012/...fifo

Processed ids are kept in a SQLite file: --db, else N3_CONSUMER_DB, else
$XDG_STATE_HOME/n3-callback/processed.sqlite3 (~/.local/state/... without XDG_STATE_HOME), never the working folder.
--once takes what the queue holds and returns as soon as it is empty: its receives wait 1 s, not a 20 s long poll.

Prints one JSON line per message on stdout (ids, types, sizes: never payload contents) and a
one-line explanation on stderr for each message it leaves on the queue.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

try:  # Optional: validate against the published schemas when a validator is at hand.
    from jsonschema import Draft202012Validator
except ImportError:
    Draft202012Validator = None

# Envelope versions this consumer understands. A message of any other version is left on the queue.
KNOWN_VERSIONS = {1}
MESSAGE_TYPES = {"CDAStatus", "SEMDStatus", "REMDStatus", "MseResult", "MseResultData", "VimisResult"}
DEFAULT_SCHEMAS = Path(__file__).resolve().parent.parent.parent / "docs" / "schemas"


class LeaveOnQueue(Exception):
    """This message cannot be processed by this consumer: leave it on the queue and report why."""


@dataclass
class Queue:
    url: str
    sqs: Any
    s3: Any


def connect(args: argparse.Namespace) -> Queue:
    if args.queue_url:
        # AWS: endpoints, region and credentials from the standard chain (env, profile, instance role).
        return Queue(args.queue_url, boto3.client("sqs", region_name=args.region), boto3.client("s3", region_name=args.region))
    base = args.base or os.environ.get("N3_CALLBACK_BASE") or f"http://127.0.0.1:{os.environ.get('PORT', '3000')}/"
    try:
        with urllib.request.urlopen(base.rstrip("/") + "/_local/info", timeout=10) as response:
            info = json.load(response)
    except OSError:
        print(f"nothing answers at {base}: is npm start running? (--base, N3_CALLBACK_BASE or PORT)", file=sys.stderr)
        sys.exit(2)
    # The emulators take any credentials; S3 by path, as fauxqs serves buckets.
    local = {"region_name": info["region"], "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    sqs = boto3.client("sqs", endpoint_url=info["sqsEndpoint"], **local)
    s3 = boto3.client("s3", endpoint_url=info["s3Endpoint"], config=Config(s3={"addressing_style": "path"}), **local)
    return Queue(info["queueUrl"], sqs, s3)


class Schemas:
    """The published JSON Schemas, used only when `jsonschema` is importable."""

    def __init__(self, directory: Path):
        self.validators: dict[str, Any] = {}
        if Draft202012Validator is None:
            return
        for version in KNOWN_VERSIONS:
            schema = json.loads((directory / f"envelope.v{version}.json").read_text("utf-8"))
            self.validators[f"envelope.v{version}"] = Draft202012Validator(schema)
        for message_type in MESSAGE_TYPES:
            schema = json.loads((directory / f"{message_type}.json").read_text("utf-8"))
            self.validators[message_type] = Draft202012Validator(schema)

    @property
    def active(self) -> bool:
        return bool(self.validators)

    def check(self, name: str, document: Any) -> None:
        validator = self.validators.get(name)
        if validator is None:
            return
        error = next(iter(sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            # Name the field and the rule, never the value: payloads are medical data.
            rule = error.message if error.validator == "required" else error.validator
            raise LeaveOnQueue(f"does not match the {name} schema at {where}: {rule}")


def resolve_payload(queue: Queue, envelope: dict) -> dict:
    """The payload inline, or fetched by its claim check and checked."""
    if "payload" in envelope:
        return envelope["payload"]
    ref = envelope["payloadRef"]
    try:
        body = queue.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    except ClientError as error:
        raise LeaveOnQueue(f"claim-checked payload not readable: {error.response.get('Error', {}).get('Code')}") from None
    if len(body) != ref["size"]:
        raise LeaveOnQueue(f"claim-checked payload is {len(body)} bytes, the envelope says {ref['size']}")
    if hashlib.sha256(body).hexdigest() != ref["sha256"]:
        raise LeaveOnQueue("claim-checked payload does not match its sha256")
    return json.loads(body.decode("utf-8"))


def read_envelope(body: str, schemas: Schemas) -> dict:
    try:
        envelope = json.loads(body)
    except ValueError:
        raise LeaveOnQueue("body is not JSON") from None
    if not isinstance(envelope, dict):
        raise LeaveOnQueue("body is not a JSON object")
    version = envelope.get("version")
    if version not in KNOWN_VERSIONS:
        raise LeaveOnQueue(f"envelope version {version!r} is unknown to this consumer (knows {sorted(KNOWN_VERSIONS)}): upgrade it")
    schemas.check(f"envelope.v{version}", envelope)
    if envelope.get("messageType") not in MESSAGE_TYPES:
        raise LeaveOnQueue(f"messageType {str(envelope.get('messageType'))[:40]!r} is unknown to this consumer")
    if ("payload" in envelope) == ("payloadRef" in envelope):
        raise LeaveOnQueue("envelope must carry exactly one of payload and payloadRef")
    return envelope


def emit(event: dict) -> None:
    print(json.dumps(event, ensure_ascii=False), flush=True)


def do_the_work(db: sqlite3.Connection, envelope: dict, payload: dict) -> None:
    """Your MIS's own work goes here, in the same transaction as the processed-id record."""
    db.execute(
        "INSERT INTO callbacks (message_id, message_type, status) VALUES (?, ?, ?)",
        (envelope["messageId"], envelope["messageType"], payload.get("Status")),
    )


def open_db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS processed (message_id TEXT PRIMARY KEY, processed_at TEXT DEFAULT CURRENT_TIMESTAMP)")
    db.execute("CREATE TABLE IF NOT EXISTS callbacks (message_id TEXT, message_type TEXT, status TEXT)")
    return db


def is_simulation(envelope: dict) -> bool:
    """True for a message the sender simulator sent (never one from N3): a production MIS drops it."""
    return isinstance(envelope.get("simulation"), dict)


def process(queue: Queue, db: sqlite3.Connection, schemas: Schemas, message: dict, args: argparse.Namespace) -> dict:
    """Handles one SQS message; returns the event to print. Raises LeaveOnQueue to keep it."""
    envelope = read_envelope(message["Body"], schemas)
    simulation = envelope["simulation"].get("runId") if is_simulation(envelope) else None
    if simulation is not None and args.drop_simulations:
        queue.sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        return {"event": "dropped-simulation", "messageId": envelope["messageId"], "simulation": simulation}
    payload = resolve_payload(queue, envelope)
    schemas.check(envelope["messageType"], payload)
    message_id = envelope["messageId"]

    db.execute("BEGIN IMMEDIATE")
    try:
        fresh = db.execute("INSERT OR IGNORE INTO processed (message_id) VALUES (?)", (message_id,)).rowcount == 1
        if fresh:
            do_the_work(db, envelope, payload)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    event = {
        "event": "processed" if fresh else "duplicate",
        "messageId": message_id,
        "messageType": envelope["messageType"],
        "status": payload.get("Status"),
        "receiveCount": int(message["Attributes"]["ApproximateReceiveCount"]),
        "claimCheck": "payloadRef" in envelope,
    }
    if simulation is not None:
        event["simulation"] = simulation
    if isinstance(envelope.get("redelivery"), dict):
        event["redelivery"] = envelope["redelivery"].get("replayId")
    if args.stop_before_delete:
        # What a crash between the work and the delete leaves behind: the message comes back, and is not done twice.
        emit(event)
        emit({"event": "stopped-before-delete", "messageId": message_id})
        sys.exit(0)
    queue.sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
    return event


def default_db() -> str:
    """Outside any checkout: the XDG state folder, as a user-level tool keeps its state."""
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "n3-callback", "processed.sqlite3")


def run(args: argparse.Namespace) -> int:
    queue = connect(args)
    db_path = args.db or os.environ.get("N3_CONSUMER_DB") or default_db()
    os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
    db = open_db(db_path)
    schemas = Schemas(Path(args.schemas))
    # --once: a 1 s wait still asks every SQS server (a 0 s short poll samples some, and may miss a message),
    # and returns a second after the queue is empty instead of 20.
    wait_seconds = args.wait_seconds if args.wait_seconds is not None else (1 if args.once else 20)
    emit({"event": "started", "schemaValidation": schemas.active, "db": db_path, "waitSeconds": wait_seconds})
    left = 0
    seen: set[str] = set()
    while True:
        received = queue.sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=args.visibility_timeout,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount", "MessageGroupId"],
        ).get("Messages", [])
        # --once: stop when nothing new arrives (a message left on the queue may come straight back).
        if args.once and all(m["MessageId"] in seen for m in received):
            return 1 if left else 0
        blocked_groups: set[str] = set()
        for message in received:
            seen.add(message["MessageId"])
            group = message["Attributes"].get("MessageGroupId", "")
            if group in blocked_groups:
                continue  # FIFO: a later message of a document whose earlier one failed would be out of order.
            try:
                emit(process(queue, db, schemas, message, args))
            except Exception as problem:  # noqa: BLE001 - any failure leaves the message for a later receive
                reason = str(problem) if isinstance(problem, LeaveOnQueue) else f"{type(problem).__name__} while processing"
                left += 1
                blocked_groups.add(group)
                emit({"event": "left-on-queue", "sqsMessageId": message["MessageId"], "reason": reason})
                print(f"left on the queue (SQS MessageId {message['MessageId']}): {reason}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Consume an N3 callback site's MIS queue (boto3 only).")
    parser.add_argument("--base", help="the local endpoint (npm start); default N3_CALLBACK_BASE, else http://127.0.0.1:$PORT/")
    parser.add_argument("--queue-url", default=os.environ.get("N3_QUEUE_URL"), help="a deployed site's queue (stack output QueueUrl)")
    parser.add_argument("--region", default=None, help="AWS region (default: the AWS chain's)")
    parser.add_argument("--db", help="SQLite file of processed messageIds (default N3_CONSUMER_DB, else $XDG_STATE_HOME/n3-callback/processed.sqlite3)")
    parser.add_argument("--schemas", default=str(DEFAULT_SCHEMAS), help="folder of the published JSON Schemas")
    parser.add_argument("--wait-seconds", type=int, help="long-poll wait per ReceiveMessage (default 20; 1 with --once)")
    parser.add_argument("--visibility-timeout", type=int, default=60, help="seconds a received message stays hidden (default %(default)s)")
    parser.add_argument("--once", action="store_true", help="stop as soon as the queue has nothing new; exit 1 if any message was left on the queue")
    parser.add_argument("--drop-simulations", action="store_true", help="delete messages the sender simulator sent, undone (production)")
    parser.add_argument("--stop-before-delete", action="store_true", help="simulate a crash: process one message, then exit without deleting it")
    args = parser.parse_args()
    try:
        sys.exit(run(args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
