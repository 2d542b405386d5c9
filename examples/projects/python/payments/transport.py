"""Outbound webhook delivery settings."""
from urllib.parse import urlparse

MIN_TLS = "TLSv1.2"


def webhook_allowed(url: str) -> bool:
    return urlparse(url).scheme == "https"
