"""Schema migration plan checks run before a deploy."""


def plan(available, applied):
    """Pending migrations in order; refuses gaps, unknown applied ids and missing downs."""
    ids = sorted(available)
    for mid in ids:
        if "down" not in available[mid]:
            raise ValueError(f"migration {mid} has no down step")
    unknown = set(applied) - set(ids)
    if unknown:
        raise ValueError(f"applied migrations not in repo: {sorted(unknown)}")
    pending = [m for m in ids if m not in applied]
    if pending and applied and min(pending) < max(applied):
        raise ValueError(f"out-of-order migration {min(pending)}")
    return pending


def deploy_allowed(pending) -> bool:
    return not pending
