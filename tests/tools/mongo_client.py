#!/usr/bin/env python3
"""An independent MongoDB client for tests (pymongo, which the tests did not write).

Usage: mongo_client.py SERVER_URL DATABASE COLLECTION

Prints every document of the collection as one JSON array on stdout, with
BSON types the JSON would lose marked: binary as {"$binary": base64},
doubles as {"$double": value}, 32/64-bit integers as {"$int": value}.
"""

import base64
import json
import sys

import pymongo


def plain(v):
    if isinstance(v, bytes):
        return {"$binary": base64.b64encode(v).decode()}
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, float):
        return {"$double": v}
    if isinstance(v, int):
        return {"$int": v}
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return {"$other": repr(v)}


def main():
    url, db, coll = sys.argv[1:4]
    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=10000)
    docs = list(client[db][coll].find())
    print(json.dumps([plain(d) for d in docs]))


if __name__ == "__main__":
    main()
