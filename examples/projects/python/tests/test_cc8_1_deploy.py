import pytest

from payments.migrations import deploy_allowed, plan

MIGRATIONS = {
    "0001_init": {"up": "...", "down": "..."},
    "0002_refunds": {"up": "...", "down": "..."},
    "0003_idempotency_keys": {"up": "...", "down": "..."},
}


def test_pending_migrations_block_deploy():
    pending = plan(MIGRATIONS, applied=["0001_init"])
    assert pending == ["0002_refunds", "0003_idempotency_keys"]
    assert not deploy_allowed(pending)


def test_migration_without_down_step_is_refused():
    broken = dict(MIGRATIONS, **{"0004_drop_legacy": {"up": "..."}})
    with pytest.raises(ValueError, match="no down step"):
        plan(broken, applied=[])
