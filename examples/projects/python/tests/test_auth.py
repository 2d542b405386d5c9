import pytest

from payments.auth import AuthError, issue_token, verify_token

NOW = 1_700_000_000


def test_valid_token_is_accepted(secret, record_property):
    record_property("control", "CC6.1")
    token = issue_token(secret, "merchant-42", "operator", now=NOW)
    assert verify_token(secret, token, now=NOW + 60)["sub"] == "merchant-42"


def test_tampered_token_is_rejected(secret, record_property):
    record_property("control", "CC6.1")
    token = issue_token(secret, "merchant-42", "viewer", now=NOW)
    body, sig = token.split(".")
    forged = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + sig
    with pytest.raises(AuthError):
        verify_token(secret, forged, now=NOW)


def test_token_rejected_at_exact_expiry(secret, record_property):
    record_property("control", "CC6.1")
    token = issue_token(secret, "merchant-42", "operator", now=NOW, ttl=900)
    with pytest.raises(AuthError, match="expired"):
        verify_token(secret, token, now=NOW + 900)
