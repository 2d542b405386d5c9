"""Signed, expiring API tokens (HMAC-SHA256)."""
import base64
import hashlib
import hmac
import json


class AuthError(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(secret: bytes, subject: str, role: str, now: int, ttl: int = 900) -> str:
    body = json.dumps({"sub": subject, "role": role, "exp": now + ttl}, sort_keys=True).encode()
    sig = hmac.new(secret, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(sig)}"


def verify_token(secret: bytes, token: str, now: int) -> dict:
    try:
        body_b64, sig_b64 = token.split(".")
        body, sig = _unb64(body_b64), _unb64(sig_b64)
    except ValueError as exc:
        raise AuthError("malformed token") from exc
    if not hmac.compare_digest(sig, hmac.new(secret, body, hashlib.sha256).digest()):
        raise AuthError("bad signature")
    claims = json.loads(body)
    # BUG (kept on purpose for the quickstart): a token is still accepted at the
    # exact second it expires; should be `now >= claims["exp"]`.
    if now > claims["exp"]:
        raise AuthError("token expired")
    return claims
