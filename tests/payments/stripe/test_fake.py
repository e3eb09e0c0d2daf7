"""The fake Stripe server sends the objects Stripe sends: each has every field of Stripe's
published example of its type (stripe/openapi fixtures3.json) and only fields the SDK
declares for it, so no test can pass on a shape Stripe never sends."""

from __future__ import annotations

import json
from typing import Any
from urllib.request import urlopen

import pytest
import stripe

from clientledger.payments.stripe.checkout import checkout_session_create
from clientledger.payments.stripe.client import stripe_client
from tests.payments.conftest import OpenInvoice
from tests.payments.stripe_fake import PUBLISHED, FakeStripe, published, shape_errors

pytestmark = pytest.mark.django_db


def stripe_objects(obj: Any) -> list[dict[str, Any]]:
    """Every Stripe object in `obj`, nested ones too."""
    if isinstance(obj, list):
        return [found for item in obj for found in stripe_objects(item)]
    if not isinstance(obj, dict):
        return []
    own = [obj] if isinstance(obj.get("object"), str) and obj["object"] != "list" else []
    return own + [found for value in obj.values() for found in stripe_objects(value)]


def read(fake: FakeStripe, path: str) -> Any:
    with urlopen(fake.base_url + path, timeout=5) as answer:
        return json.load(answer)


def test_every_object_the_fake_sends_has_the_fields_of_stripes_published_example(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    """Everything the fake can send: each builder's objects, in events and over HTTP."""
    paid, ach, declined = (open_invoice("100.00") for _ in range(3))
    checkout_session_create(invoice=paid, token="tok")
    fake_stripe.intent("pi_card", invoice=paid, status="succeeded", fee=320)
    fake_stripe.intent("pi_ach", invoice=ach, status="processing", method="us_bank_account")
    fake_stripe.intent(
        "pi_declined", invoice=declined, status="requires_payment_method", error="No"
    )
    fake_stripe.refund("pi_card", 1000)
    fake_stripe.refund("pi_card", 2000, status="failed")
    fake_stripe.dispute("pi_card", status="warning_needs_response")
    for intent_id in ("pi_card", "pi_ach", "pi_declined"):
        fake_stripe.event("payment_intent.succeeded", fake_stripe.intents[intent_id])
        fake_stripe.event("charge.updated", fake_stripe.charge(intent_id))
    fake_stripe.event(
        "checkout.session.completed", fake_stripe.completed_session("pi_card", paid=True)
    )
    for refund in fake_stripe.refunds.values():
        fake_stripe.event("charge.refund.updated", refund)
    fake_stripe.event("charge.dispute.created", fake_stripe.disputes["dp_1"])
    fake_stripe.event("customer.created", published("customer", id="cus_1", discount=None))

    sent = [
        *fake_stripe.events,
        fake_stripe.sessions["cs_test_1"],
        read(
            fake_stripe, "/v1/payment_intents/pi_card?expand[0]=latest_charge.balance_transaction"
        ),
        read(fake_stripe, "/v1/refunds?payment_intent=pi_card"),
        read(fake_stripe, "/v1/disputes?payment_intent=pi_card"),
        read(fake_stripe, "/v1/events"),
    ]

    objects = stripe_objects(sent)
    assert {obj["object"] for obj in objects} == set(PUBLISHED)
    for obj in objects:
        assert PUBLISHED[obj["object"]].keys() <= obj.keys(), obj["id"]
        assert shape_errors(obj) == []


def test_a_refund_relabelled_as_a_charge_is_not_what_stripe_sends(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    fake_stripe.intent("pi_card", invoice=open_invoice("100.00"), status="succeeded")
    refund = fake_stripe.refund("pi_card", 1000)

    lacks, unknown = shape_errors({**refund, "object": "charge"})

    assert "lacks" in lacks and "amount_refunded" in lacks
    assert "does not send" in unknown and "destination_details" in unknown
    with pytest.raises(AssertionError, match="lacks"):
        fake_stripe.event("charge.refunded", {**refund, "object": "charge"})


def test_a_field_stripe_never_sends_is_refused() -> None:
    with pytest.raises(AssertionError, match="Stripe sends no"):
        published("charge", refund_id="re_1")


def test_a_repeated_idempotency_key_gets_the_first_answer_and_is_refused_with_other_parameters(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    fake_stripe.intent("pi_card", invoice=open_invoice("100.00"), status="succeeded")
    refunds = stripe_client(None).v1.refunds

    first = refunds.create(
        params={"payment_intent": "pi_card", "amount": 100}, options={"idempotency_key": "k1"}
    )
    again = refunds.create(
        params={"payment_intent": "pi_card", "amount": 100}, options={"idempotency_key": "k1"}
    )
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        refunds.create(
            params={"payment_intent": "pi_card", "amount": 200}, options={"idempotency_key": "k1"}
        )

    assert first.id == again.id
    assert len(fake_stripe.refunds) == 1
