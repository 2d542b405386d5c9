import pytest

from payments.billing import invoice_total, prorate


def test_invoice_total_rounds_tax_half_up():
    # 3 x 19.99 + 1 x 5.00 = 64.97; 8.25% tax = 5.360025 -> 5.36
    assert invoice_total([(1999, 3), (500, 1)], "0.0825") == 6497 + 536


@pytest.mark.skip(reason="proration moves to billing v2 (PAY-412)")
def test_prorate_partial_month():
    assert prorate(3000, 10, 30) == 1000
