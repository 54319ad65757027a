#!/usr/bin/env python3
"""An independent DynamoDB client for tests (boto3, which the tests did not write).

Usage: dynamodb_client.py ENDPOINT create TABLE KEY_ATTRIBUTE
       dynamodb_client.py ENDPOINT scan TABLE

`create` makes a table keyed by one string attribute (on-demand billing);
`scan` prints every item as DynamoDB JSON (binary values in base64), one JSON
array on stdout. Credentials and region are moto's dummies.
"""

import base64
import json
import sys

import boto3


def plain(value):
    ((kind, x),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(x).decode()}
    if kind == "M":
        return {"M": {k: plain(v) for k, v in x.items()}}
    if kind == "L":
        return {"L": [plain(v) for v in x]}
    return {kind: x}


def main():
    endpoint, op, table = sys.argv[1:4]
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIAMOTOTESTING00000",
        aws_secret_access_key="moto-secret-key-not-for-real-use",
    )
    if op == "create":
        key = sys.argv[4]
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    elif op == "scan":
        items = client.scan(TableName=table)["Items"]
        print(json.dumps([{k: plain(v) for k, v in i.items()} for i in items]))
    else:
        sys.exit(f"unknown operation {op}")


if __name__ == "__main__":
    main()
