from payments.transport import webhook_allowed


def test_webhooks_require_https():
    # Control tag via stdout, captured into <system-out> by
    # `-o junit_logging=system-out`.
    print("[[PROPERTY|control=CC6.7]]")
    assert webhook_allowed("https://merchant.example/hooks/payments")
    assert not webhook_allowed("http://merchant.example/hooks/payments")
