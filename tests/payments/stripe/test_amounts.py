"""Stripe's own currency rules (docs.stripe.com/currencies), table by table."""

from __future__ import annotations

import pytest

from clientledger.payments.stripe.amounts import StripeAmountError, from_stripe, to_stripe

# (currency, our minor units, Stripe's amount): the same money on both sides.
SAME_MONEY = [
    ("USD", 123456, 123456),
    ("EUR", 1, 1),
    # Zero-decimal: whole units on both sides.
    ("JPY", 15000, 15000),
    ("KRW", 9900, 9900),
    ("CLP", 1, 1),
    # Three-decimal: thousandths, the last digit 0.
    ("KWD", 12340, 12340),
    ("BHD", 10, 10),
    ("TND", 5120, 5120),
    # ISK and UGX: whole units, sent as two-decimal amounts ending in 00.
    ("ISK", 5, 500),
    ("ISK", 15000, 1500000),
    ("UGX", 3800, 380000),
    # HUF and TWD are zero-decimal for payouts only: charges are two-decimal.
    ("HUF", 1045, 1045),
    ("TWD", 99, 99),
]


@pytest.mark.parametrize(("currency", "minor", "amount"), SAME_MONEY)
def test_an_amount_goes_to_stripe_in_stripes_unit(currency: str, minor: int, amount: int) -> None:
    assert to_stripe(minor, currency) == amount


@pytest.mark.parametrize(("currency", "minor", "amount"), SAME_MONEY)
def test_an_amount_comes_back_from_stripe_in_our_minor_unit(
    currency: str, minor: int, amount: int
) -> None:
    assert from_stripe(amount, currency) == minor


@pytest.mark.parametrize(
    ("currency", "minor", "message"),
    [
        ("KWD", 12345, r"steps of KWD.?0\.010: use KWD.?12\.340 or KWD.?12\.350"),
        ("BHD", 1, r"steps of BHD.?0\.010: use BHD.?0\.000 or BHD.?0\.010"),
    ],
)
def test_a_three_decimal_amount_not_ending_in_zero_is_refused(
    currency: str, minor: int, message: str
) -> None:
    with pytest.raises(StripeAmountError, match=message):
        to_stripe(minor, currency)


@pytest.mark.parametrize(
    ("currency", "minor", "amount"),
    [("KWD", 12345, 12350), ("KWD", 12341, 12350), ("KWD", 12340, 12340), ("USD", 1, 1)],
)
def test_rounding_up_gives_the_next_amount_stripe_takes(
    currency: str, minor: int, amount: int
) -> None:
    assert to_stripe(minor, currency, round_up=True) == amount


@pytest.mark.parametrize(
    ("currency", "amount"),
    [("ISK", 550), ("UGX", 1), ("ISK", "500"), ("USD", True), ("USD", 2**63), ("USD", 1.5)],
)
def test_an_amount_from_stripe_we_cannot_hold_exactly_is_refused(
    currency: str, amount: object
) -> None:
    with pytest.raises(StripeAmountError):
        from_stripe(amount, currency)
