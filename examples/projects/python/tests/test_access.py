from payments.access import can


def test_cc6_3_viewer_cannot_refund():
    assert not can("viewer", "payment:refund")


def test_only_admin_rotates_keys(record_property):
    record_property("controls", "CC6.1, CC6.3")
    assert [r for r in ("viewer", "operator", "admin") if can(r, "keys:rotate")] == ["admin"]
