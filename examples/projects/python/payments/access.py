"""Role-based access to payment operations."""

PERMISSIONS = {
    "viewer": {"payment:read"},
    "operator": {"payment:read", "payment:create"},
    "admin": {"payment:read", "payment:create", "payment:refund", "keys:rotate"},
}


def can(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, set())
