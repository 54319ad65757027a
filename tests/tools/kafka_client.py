#!/usr/bin/env python3
"""An independent Kafka client for the pubsub backend's tests (kafka-python).

  kafka_client.py BOOTSTRAP create TOPIC PARTITIONS
  kafka_client.py BOOTSTRAP consume TOPIC COUNT

`consume` reads every partition from the beginning until COUNT messages
arrived (or 60 s passed) and prints one JSON object per message:
{"partition", "key", "value", "headers": {name: value}}, bytes as UTF-8
text (or base64 under "value_b64" when not UTF-8).
"""
import base64
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic


def text(b):
    if b is None:
        return None
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(b).decode()


def create(bootstrap, topic, partitions):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    admin.create_topics([NewTopic(topic, int(partitions), 1)])
    admin.close()


def consume(bootstrap, topic, count):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=2000,
    )
    deadline = time.time() + 60
    parts = None
    while parts is None and time.time() < deadline:
        parts = consumer.partitions_for_topic(topic)
        if parts is None:
            time.sleep(0.2)
    if parts is None:
        sys.exit(f"topic {topic} not found")
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    out = []
    while len(out) < int(count) and time.time() < deadline:
        for msg in consumer:
            out.append(
                {
                    "partition": msg.partition,
                    "key": text(msg.key),
                    "value": text(msg.value),
                    "headers": {k: text(v) for k, v in (msg.headers or [])},
                }
            )
    consumer.close()
    for m in out:
        print(json.dumps(m))


if __name__ == "__main__":
    bootstrap, command, *rest = sys.argv[1:]
    {"create": create, "consume": consume}[command](bootstrap, *rest)
