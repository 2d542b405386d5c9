"""Snapshot and restore of the ledger store, with a checksum."""
import hashlib
import json


def snapshot(store: dict) -> bytes:
    body = json.dumps(store, sort_keys=True).encode()
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def restore(blob: bytes) -> dict:
    digest, body = blob.split(b"\n", 1)
    if hashlib.sha256(body).hexdigest().encode() != digest:
        raise ValueError("backup checksum mismatch")
    return json.loads(body)
