import pytest

SECRET = b"example-only-secret"


@pytest.fixture(scope="session", autouse=True)
def suite_metadata(record_testsuite_property):
    # Suite-level <properties>: not a control name, so controlgate ignores it
    # (the jest example shows a suite-level control tag).
    record_testsuite_property("service", "payments-api")


@pytest.fixture
def secret():
    return SECRET
