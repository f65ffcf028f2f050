"""The Python originals' side of mdp's interop tests: every command uses the libraries'
own code (market-data-core's JsonCodec and RedisStreamsBus, market-data-store's
FeedbackPublisherService), never a re-implementation of their rules.

Commands (Redis settings from REDIS_URL and MD_NAMESPACE, as the libraries read them):

  hash     stdin: one JSON object per line, {"model": "feedback" | "rate" | "probe" |
           "topology" | "audit", "payload": {...}};
           stdout: one line each, {"dump": model_dump_json(), "wire": JsonCodec.encode(...)}
           or {"error": "..."} when the model rejects the payload.
  steer    --mode core | store: publishes feedback for one coordinator every 0.2 s at the
           level last read from stdin ("hard", "soft", "ok"; "quit" ends), through the core
           bus's publish (core) or exactly as market-data-store does (store). Meanwhile
           subscribes to the rate adjustments and prints "adjust <scale> <hash_ok>" for each.
  consume  subscribes to the feedback stream with the core bus's subscribe and prints one
           JSON line per event, with whether its hash matches the payload.

Each subscribing command prints "ready" once its consumer group exists.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys

from pydantic import BaseModel

from market_data_core.events.codecs.json_codec import JsonCodec
from market_data_core.events.factory import create_event_bus
from market_data_core.federation.status import ClusterTopology
from market_data_core.telemetry import BackpressureLevel, FeedbackEvent, RateAdjustment
from market_data_core.telemetry.control import AuditEnvelope

class Probe(BaseModel):
    """Any string and any float the core's models could carry, signs included."""

    text: str
    number: float
    numbers: list[float]


MODELS = {
    "feedback": ("telemetry.FeedbackEvent", FeedbackEvent),
    "rate": ("telemetry.RateAdjustment", RateAdjustment),
    "probe": ("interop.Probe", Probe),
    "topology": ("telemetry.ClusterTopology", ClusterTopology),
    "audit": ("control.AuditEnvelope", AuditEnvelope),
}


def say(line: str) -> None:
    print(line, flush=True)


def hash_ok(envelope) -> bool:
    dump = envelope.payload.model_dump_json()
    return hashlib.sha256(dump.encode("utf-8")).hexdigest() == envelope.meta.hash


def namespace() -> str:
    return os.getenv("MD_NAMESPACE") or "mdp"


def bus():
    return create_event_bus(backend="redis")


def cmd_hash() -> None:
    codec = JsonCodec(track="v1")
    for line in sys.stdin:
        request = json.loads(line)
        schema_id, model = MODELS[request["model"]]
        try:
            value = model.model_validate(request["payload"])
        except Exception as exc:  # the model's own verdict is the answer
            say(json.dumps({"error": str(exc)}))
            continue
        wire = codec.encode(schema_id, value, key="k").decode("utf-8")
        say(json.dumps({"dump": value.model_dump_json(), "wire": wire}))


async def subscribed(stream: str, group: str):
    """The core bus's own subscription, its group created before "ready" is printed."""
    reader = bus()
    await reader._ensure_consumer_group(stream, group)
    say("ready")
    return reader.subscribe(stream, group=group, consumer="c1", block_ms=200)


async def observe_adjustments() -> None:
    stream = f"{namespace()}.telemetry.rate_adjustment"
    async for envelope in await subscribed(stream, f"py-observer-{os.getpid()}"):
        say(f"adjust {envelope.payload.scale} {hash_ok(envelope)}")


async def read_commands(level: dict) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line in ("", "quit"):
            return
        level["now"] = BackpressureLevel(line)
        say(f"level {line}")


async def cmd_steer(mode: str, coordinator: str) -> None:
    level = {"now": BackpressureLevel.ok}
    capacity = 100
    sizes = {BackpressureLevel.ok: 10, BackpressureLevel.soft: 80, BackpressureLevel.hard: 95}
    if mode == "store":
        from market_data_store.pulse import FeedbackPublisherService, PulseConfig

        service = FeedbackPublisherService(PulseConfig())

        async def publish(now):
            await service.publish_feedback(
                coordinator, sizes[now], capacity, now, reason=f"queue_{now.value}"
            )

    else:
        writer = bus()
        stream = f"{namespace()}.telemetry.feedback"

        async def publish(now):
            import time

            event = FeedbackEvent(
                coordinator_id=coordinator,
                queue_size=sizes[now],
                capacity=capacity,
                level=now,
                source="store",
                ts=time.time(),
            )
            await writer.publish(stream, event, key=coordinator)

    async def keep_publishing():
        while True:
            await publish(level["now"])
            await asyncio.sleep(0.2)

    tasks = [asyncio.create_task(t) for t in (observe_adjustments(), keep_publishing())]
    try:
        await read_commands(level)
    finally:
        for task in tasks:
            task.cancel()


async def cmd_consume() -> None:
    stream = f"{namespace()}.telemetry.feedback"
    async for envelope in await subscribed(stream, f"py-consumer-{os.getpid()}"):
        p = envelope.payload
        say(
            json.dumps(
                {
                    "schema_id": envelope.meta.schema_id,
                    "key": envelope.key,
                    "coordinator_id": p.coordinator_id,
                    "level": p.level.value,
                    "hash_ok": hash_ok(envelope),
                },
                ensure_ascii=False,
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("hash")
    steer = commands.add_parser("steer")
    steer.add_argument("--mode", choices=["core", "store"], required=True)
    steer.add_argument("--coordinator", default="störe-ü")
    commands.add_parser("consume")
    args = parser.parse_args()
    if args.command == "hash":
        cmd_hash()
    elif args.command == "steer":
        asyncio.run(cmd_steer(args.mode, args.coordinator))
    else:
        asyncio.run(cmd_consume())


if __name__ == "__main__":
    main()
