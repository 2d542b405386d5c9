"""Invoice arithmetic in integer cents with banker's-free half-up rounding."""
from decimal import ROUND_HALF_UP, Decimal


def invoice_total(lines, tax_rate: str) -> int:
    """`lines` is [(unit_cents, qty)]; returns the total in cents, tax included."""
    subtotal = sum(Decimal(unit) * qty for unit, qty in lines)
    tax = (subtotal * Decimal(tax_rate)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return int(subtotal + tax)


def prorate(monthly_cents: int, days_used: int, days_in_month: int) -> int:
    share = Decimal(monthly_cents) * days_used / days_in_month
    return int(share.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def credit_note(invoice_cents: int, refunded_cents: int) -> int:
    """Amount still owed after a partial refund; never negative."""
    if refunded_cents > invoice_cents:
        raise ValueError("refund exceeds invoice")
    return invoice_cents - refunded_cents
