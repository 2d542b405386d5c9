import pytest

from payments.backup import restore, snapshot


def test_restore_roundtrip(record_property):
    record_property("soc2", "A1.2 A1.3")
    store = {"acct:1": {"balance": 1250}, "acct:2": {"balance": 0}}
    assert restore(snapshot(store)) == store


def test_corrupted_backup_is_detected(record_property):
    record_property("soc2", "A1.2")
    blob = bytearray(snapshot({"acct:1": {"balance": 1250}}))
    blob[-3] ^= 0x01
    with pytest.raises(ValueError, match="checksum"):
        restore(bytes(blob))
