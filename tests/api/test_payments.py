"""Payments, refunds, client credit and invoice payment state through the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.services.invoices import invoice_void
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.payments.models import (
    Allocation,
    DisputeStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from clientledger.payments.services.manual import payment_record_manual
from clientledger.payments.services.refunds import payment_refund
from tests.api.conftest import ApiClient, errors
from tests.factories import ClientFactory
from tests.payments.conftest import TODAY, issue_invoice
from tests.payments.stripe_rows import open_dispute, pending_ach_payment
from tests.statements import ledger_statements, owed_row_statements, rollup_statements

pytestmark = pytest.mark.django_db

RECEIVED_ON = TODAY.isoformat()


@pytest.fixture
def payer(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Acme Corp", currency="USD")


def record(client: Client, amount: str, **fields: Any) -> Payment:
    """A bank transfer of `client`, kept as credit unless `allocations` are given."""
    fields.setdefault("allocations", [])
    return payment_record_manual(
        agency=client.agency,
        actor=None,
        client=client,
        amount=Decimal(amount),
        currency=client.currency,
        received_on=TODAY,
        method=PaymentMethod.BANK_TRANSFER,
        **fields,
    )


def body(client: Client, amount: str = "100.00", **fields: Any) -> dict[str, Any]:
    return {
        "client_id": client.pk,
        "amount": amount,
        "received_on": RECEIVED_ON,
        "method": "bank_transfer",
        **fields,
    }


def state(invoice: Invoice) -> tuple[str, int]:
    invoice.refresh_from_db()
    return invoice.status, invoice.amount_paid_minor


# --- recording -----------------------------------------------------------------------------


def test_a_payment_with_allocations_pays_the_chosen_invoices_and_keeps_the_rest_as_credit(
    owner_api: ApiClient, payer: Client
) -> None:
    first, second = issue_invoice(payer, "100.00"), issue_invoice(payer, "80.00")

    response = owner_api.post(
        "/payments",
        body(
            payer,
            "150.00",
            reference="BANK-42",
            allocations=[
                {"invoice_id": second.pk, "amount": "80.00"},
                {"invoice_id": first.pk, "amount": "50"},
            ],
        ),
    )

    assert response.status_code == 201, response.content
    payment = response.json()
    assert payment["client"] == {"id": payer.pk, "name": "Acme Corp"}
    assert payment["method"] == "bank_transfer"
    assert payment["status"] == "succeeded"
    assert (payment["amount"], payment["allocated"], payment["unallocated"]) == (
        "150.00",
        "130.00",
        "20.00",
    )
    assert payment["reference"] == "BANK-42"
    assert [(a["invoice"]["id"], a["amount"]) for a in payment["allocations"]] == [
        (second.pk, "80.00"),
        (first.pk, "50.00"),
    ]
    assert state(second) == (InvoiceStatus.PAID, 8000)
    assert state(first) == (InvoiceStatus.OPEN, 5000)
    assert owner_api.get(f"/clients/{payer.pk}/credit").json()["balance"] == "20.00"


def test_without_allocations_the_oldest_due_invoices_are_paid_first(
    owner_api: ApiClient, payer: Client
) -> None:
    later = issue_invoice(payer, "100.00", due_in_days=30)
    sooner = issue_invoice(payer, "100.00", due_in_days=10)

    response = owner_api.post("/payments", body(payer, "120.00"))

    assert response.status_code == 201, response.content
    assert state(sooner) == (InvoiceStatus.PAID, 10000)
    assert state(later) == (InvoiceStatus.OPEN, 2000)


def test_an_empty_allocation_list_keeps_the_whole_payment_as_credit(
    owner_api: ApiClient, payer: Client
) -> None:
    invoice = issue_invoice(payer, "100.00")

    response = owner_api.post("/payments", body(payer, "40.00", allocations=[]))

    assert response.json()["unallocated"] == "40.00"
    assert state(invoice) == (InvoiceStatus.OPEN, 0)


def test_the_same_idempotency_key_in_the_body_records_one_payment(
    owner_api: ApiClient, payer: Client
) -> None:
    first = owner_api.post("/payments", body(payer, idempotency_key="order-7"))
    again = owner_api.post("/payments", body(payer, idempotency_key="order-7"))

    assert first.json()["id"] == again.json()["id"]
    assert Payment.objects.count() == 1


def test_the_idempotency_key_header_records_one_payment(
    owner_api: ApiClient, payer: Client
) -> None:
    owner_api.headers["Idempotency-Key"] = "retry-1"

    first = owner_api.post("/payments", body(payer))
    again = owner_api.post("/payments", body(payer))

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Payment.objects.get().idempotency_key == "retry-1"


def test_a_header_key_differing_from_the_body_key_is_refused(
    owner_api: ApiClient, payer: Client
) -> None:
    owner_api.headers["Idempotency-Key"] = "header-key"

    response = owner_api.post("/payments", body(payer, idempotency_key="body-key"))

    assert "idempotency_key" in errors(response)
    assert not Payment.objects.exists()


# --- bad input changes nothing ---------------------------------------------------------------


def _void(client: Client) -> Invoice:
    return invoice_void(invoice=issue_invoice(client, "50.00"), actor=None, reason="Duplicate")


def _paid(client: Client) -> Invoice:
    invoice = issue_invoice(client, "50.00")
    record(client, "50.00", allocations=[(invoice, Decimal("50.00"))])
    return invoice


def _foreign(client: Client) -> Invoice:
    return issue_invoice(ClientFactory(currency="USD"), "50.00")


def _euro(client: Client) -> Invoice:
    invoice = issue_invoice(client, "50.00")
    Invoice.objects.filter(pk=invoice.pk).update(currency="EUR")
    return invoice


BAD_ALLOCATIONS: dict[str, tuple[Callable[[Client], Invoice], str, str]] = {
    # case: (the invoice, the allocated amount, the field named)
    "above the balance": (lambda c: issue_invoice(c, "50.00"), "60.00", "allocations"),
    "above the payment": (lambda c: issue_invoice(c, "500.00"), "150.00", "allocations"),
    "a void invoice": (_void, "10.00", "allocations"),
    "a paid invoice": (_paid, "10.00", "allocations"),
    "in another currency": (_euro, "10.00", "allocations"),
    "another agency's invoice": (_foreign, "10.00", "allocations[0].invoice_id"),
    "a zero amount": (lambda c: issue_invoice(c, "50.00"), "0", "allocations[0].amount"),
}


@pytest.mark.parametrize("case", BAD_ALLOCATIONS)
def test_a_bad_allocation_is_refused_and_changes_nothing(
    owner_api: ApiClient, payer: Client, case: str
) -> None:
    make, amount, field = BAD_ALLOCATIONS[case]
    invoice = make(payer)
    payments_before, before = Payment.objects.count(), state(invoice)

    response = owner_api.post(
        "/payments",
        body(payer, "100.00", allocations=[{"invoice_id": invoice.pk, "amount": amount}]),
    )

    assert field in errors(response), response.content
    assert (Payment.objects.count(), state(invoice)) == (payments_before, before)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"amount": "10.001"}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"method": "barter"}, "method"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"tip": "1.00"}, "tip"),
        ({"allocations": [{"invoice_id": 1, "amount": 5.25}]}, "allocations[0].amount"),
    ],
)
def test_bad_payment_input_is_refused_naming_the_field(
    owner_api: ApiClient, payer: Client, fields: dict[str, Any], field: str
) -> None:
    response = owner_api.post("/payments", body(payer) | fields)

    assert field in errors(response)
    assert not Payment.objects.exists()


def test_a_client_of_another_agency_is_refused(owner_api: ApiClient) -> None:
    stranger = ClientFactory(currency="USD")

    response = owner_api.post("/payments", body(stranger))

    assert errors(response) == {"client_id": "Choose a client of your agency."}
    assert not Payment.objects.exists()


# --- reading -------------------------------------------------------------------------------


def test_a_payment_shows_its_allocations_and_refunds(owner_api: ApiClient, payer: Client) -> None:
    invoice = issue_invoice(payer, "100.00")
    payment = record(payer, "130.00", allocations=[(invoice, Decimal("100.00"))])
    payment_refund(
        agency=payer.agency, actor=None, payment=payment, amount=Decimal(10), reason="Overpaid"
    )

    shown = owner_api.get(f"/payments/{payment.pk}").json()

    assert shown["status"] == "partially_refunded"
    assert (shown["allocated"], shown["refunded"], shown["unallocated"]) == (
        "100.00",
        "10.00",
        "20.00",
    )
    assert shown["allocations"] == [
        {"invoice": {"id": invoice.pk, "number": invoice.number}, "amount": "100.00"}
    ]
    assert [(r["amount"], r["reason"], r["status"]) for r in shown["refunds"]] == [
        ("10.00", "Overpaid", "succeeded")
    ]


def test_the_list_filters_by_client_method_and_status(
    owner_api: ApiClient, payer: Client, agency: Agency
) -> None:
    other = ClientFactory(agency=agency, currency="USD")
    transfer = record(payer, "10.00")
    cash = record(payer, "20.00", idempotency_key="cash")
    Payment.objects.filter(pk=cash.pk).update(method=PaymentMethod.CASH)
    theirs = record(other, "30.00")
    payment_refund(agency=agency, actor=None, payment=theirs, amount=Decimal(30), reason="x")

    def ids(**query: Any) -> set[int]:
        # The query goes in the path: the test client's `get` has a `method` argument.
        response = owner_api.get(f"/payments?{urlencode(query)}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids() == {transfer.pk, cash.pk, theirs.pk}
    assert ids(client_id=payer.pk) == {transfer.pk, cash.pk}
    assert ids(method="cash") == {cash.pk}
    assert ids(status="refunded") == {theirs.pk}
    assert "method" in errors(owner_api.get("/payments?method=barter"))


def test_the_list_pages_with_cursors_newest_first(owner_api: ApiClient, payer: Client) -> None:
    payments = [record(payer, f"{n}.00") for n in range(1, 6)]

    first = owner_api.get("/payments", limit=2).json()
    second = owner_api.get("/payments", limit=2, after=first["next_cursor"]).json()
    back = owner_api.get("/payments", limit=2, before=second["previous_cursor"]).json()

    newest = [payment.pk for payment in reversed(payments)]
    assert [item["id"] for item in first["items"]] == newest[:2]
    assert [item["id"] for item in second["items"]] == newest[2:4]
    assert back["items"] == first["items"]
    assert "after" in errors(owner_api.get("/payments", after="forged"))


def _add_payments(client: Client, count: int) -> None:
    invoice = issue_invoice(client, "1000000.00")
    payments = Payment.objects.bulk_create(
        Payment(
            agency=client.agency,
            client=client,
            method=PaymentMethod.CHECK,
            status=PaymentStatus.PARTIALLY_REFUNDED,
            amount_minor=1000,
            currency=client.currency,
            received_on=TODAY - dt.timedelta(days=n),
        )
        for n in range(count)
    )
    Allocation.objects.bulk_create(
        Allocation(agency=client.agency, payment=p, invoice=invoice, amount_minor=500)
        for p in payments
    )
    Refund.objects.bulk_create(
        Refund(
            agency=client.agency,
            payment=p,
            amount_minor=100,
            currency=client.currency,
            reason="Fee",
            status=RefundStatus.SUCCEEDED,
        )
        for p in payments
    )


def _list_queries(api: ApiClient) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/payments", limit=200)
    assert response.status_code == 200, response.content
    assert response.json()["items"]
    return len(captured)


def test_the_list_costs_the_same_queries_for_10_and_500_payments(
    owner: Membership,
    api_as: Callable[[Membership], ApiClient],
    member_of: Callable[[Agency, str], Membership],
) -> None:
    small_agency, large_agency = owner.agency, Agency.objects.create(name="Large")
    _add_payments(ClientFactory(agency=small_agency, currency="USD"), 10)
    _add_payments(ClientFactory(agency=large_agency, currency="USD"), 500)

    small = _list_queries(api_as(owner))
    large = _list_queries(api_as(member_of(large_agency, "owner")))

    assert small == large


# --- refunds -------------------------------------------------------------------------------


def test_a_refund_takes_the_credit_first_then_reopens_the_invoice(
    owner_api: ApiClient, payer: Client
) -> None:
    invoice = issue_invoice(payer, "100.00")
    payment = record(payer, "120.00", allocations=[(invoice, Decimal("100.00"))])

    response = owner_api.post(
        f"/payments/{payment.pk}/refunds", {"amount": "50.00", "reason": "Cancelled work"}
    )

    assert response.status_code == 201, response.content
    shown = response.json()
    assert shown["status"] == "partially_refunded"
    assert (shown["allocated"], shown["refunded"], shown["unallocated"]) == (
        "70.00",
        "50.00",
        "0.00",
    )
    assert state(invoice) == (InvoiceStatus.OPEN, 7000)


@pytest.mark.parametrize(
    ("refund", "field"),
    [
        ({"amount": "120.01", "reason": "Too much"}, "amount"),
        ({"amount": "0", "reason": "Nothing"}, "amount"),
        ({"amount": 5.5, "reason": "Float"}, "amount"),
        ({"amount": "5.00", "reason": "  "}, "reason"),
    ],
)
def test_a_bad_refund_is_refused_and_changes_nothing(
    owner_api: ApiClient, payer: Client, refund: dict[str, Any], field: str
) -> None:
    payment = record(payer, "120.00")

    response = owner_api.post(f"/payments/{payment.pk}/refunds", refund)

    assert field in errors(response)
    assert not Refund.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_refunding_a_refunded_payment_is_a_conflict(owner_api: ApiClient, payer: Client) -> None:
    payment = record(payer, "20.00")
    path = f"/payments/{payment.pk}/refunds"
    owner_api.post(path, {"amount": "20.00", "reason": "Returned"})

    response = owner_api.post(path, {"amount": "1.00", "reason": "Again"})

    assert response.status_code == 409
    assert "refunded payment cannot be refunded" in response.json()["detail"]
    assert Refund.objects.count() == 1


# --- client credit -------------------------------------------------------------------------


def test_a_clients_credit_is_shown_in_its_currency(owner_api: ApiClient, agency: Agency) -> None:
    yen = ClientFactory(agency=agency, currency="JPY")
    record(yen, "1500")

    assert owner_api.get(f"/clients/{yen.pk}/credit").json() == {
        "client_id": yen.pk,
        "currency": "JPY",
        "balance": "1500",
    }


def test_applying_credit_pays_the_invoice_and_lowers_the_credit(
    owner_api: ApiClient, payer: Client
) -> None:
    record(payer, "100.00")
    invoice = issue_invoice(payer, "60.00")

    response = owner_api.post(
        f"/clients/{payer.pk}/credit/apply", {"invoice_id": invoice.pk, "amount": "60.00"}
    )

    assert response.status_code == 200, response.content
    applied = response.json()
    assert applied["credit"]["balance"] == "40.00"
    assert applied["invoice"]["status"] == "paid"
    assert applied["invoice"]["balance_due"] == "0.00"
    assert state(invoice) == (InvoiceStatus.PAID, 6000)


@pytest.mark.parametrize(
    ("make", "amount", "field"),
    [
        (lambda c: issue_invoice(c, "500.00"), "150.00", "amount"),  # above the credit
        (lambda c: issue_invoice(c, "50.00"), "60.00", "amount"),  # above the balance
        (lambda c: issue_invoice(c, "50.00"), "-1", "amount"),
        (_void, "10.00", "invoice_id"),
        (_paid, "10.00", "invoice_id"),
        (_foreign, "10.00", "invoice_id"),
        (lambda c: issue_invoice(ClientFactory(agency=c.agency), "50.00"), "10.00", "invoice_id"),
    ],
)
def test_bad_credit_applications_are_refused_and_change_nothing(
    owner_api: ApiClient,
    payer: Client,
    make: Callable[[Client], Invoice],
    amount: str,
    field: str,
) -> None:
    record(payer, "100.00")
    invoice = make(payer)
    allocations, before = Allocation.objects.count(), state(invoice)

    response = owner_api.post(
        f"/clients/{payer.pk}/credit/apply", {"invoice_id": invoice.pk, "amount": amount}
    )

    assert field in errors(response), response.content
    assert (Allocation.objects.count(), state(invoice)) == (allocations, before)


# --- invoice payment state -----------------------------------------------------------------


def test_an_invoice_lists_what_pays_it(owner_api: ApiClient, payer: Client) -> None:
    invoice = issue_invoice(payer, "100.00")
    payment = record(payer, "30.00", allocations=[(invoice, Decimal("30.00"))])

    shown = owner_api.get(f"/invoices/{invoice.pk}/payments").json()

    assert shown == {
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "status": "open",
        "currency": "USD",
        "total": "100.00",
        "amount_paid": "30.00",
        "amount_credited": "0.00",
        "balance_due": "70.00",
        "payment_pending": "0.00",
        "disputed": False,
        "allocations": [
            {
                "payment_id": payment.pk,
                "received_on": RECEIVED_ON,
                "method": "bank_transfer",
                "amount": "30.00",
            }
        ],
    }


def test_an_invoice_shows_the_bank_payment_processing_for_it(
    owner_api: ApiClient, payer: Client
) -> None:
    invoice = issue_invoice(payer, "100.00")
    pending_ach_payment(invoice, 4000)

    shown = owner_api.get(f"/invoices/{invoice.pk}/payments").json()

    assert (shown["payment_pending"], shown["balance_due"], shown["allocations"]) == (
        "40.00",
        "100.00",
        [],
    )


def test_an_invoice_with_an_open_dispute_is_disputed(owner_api: ApiClient, payer: Client) -> None:
    disputed, settled = issue_invoice(payer, "100.00"), issue_invoice(payer, "50.00")
    open_dispute(disputed)
    open_dispute(settled, status=DisputeStatus.WON)

    def is_disputed(invoice: Invoice) -> bool:
        return owner_api.get(f"/invoices/{invoice.pk}/payments").json()["disputed"]

    assert (is_disputed(disputed), is_disputed(settled)) == (True, False)


# --- roles and tenancy ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales"])
def test_sales_cannot_record_refund_or_apply_credit(
    request: pytest.FixtureRequest,
    api_as: Callable[[Membership], ApiClient],
    payer: Client,
    role: str,
) -> None:
    api = api_as(request.getfixturevalue(role))
    payment = record(payer, "50.00")
    invoice = issue_invoice(payer, "50.00")

    writes = [
        api.post("/payments", body(payer)),
        api.post(f"/payments/{payment.pk}/refunds", {"amount": "1.00", "reason": "No"}),
        api.post(f"/clients/{payer.pk}/credit/apply", {"invoice_id": invoice.pk, "amount": "1"}),
    ]

    assert [response.status_code for response in writes] == [403, 403, 403]
    assert api.get(f"/payments/{payment.pk}").status_code == 200
    assert (Payment.objects.count(), Refund.objects.count(), state(invoice)) == (
        1,
        0,
        (InvoiceStatus.OPEN, 0),
    )


def test_finance_records_payments(
    finance: Membership, api_as: Callable[[Membership], ApiClient], payer: Client
) -> None:
    assert api_as(finance).post("/payments", body(payer)).status_code == 201


def test_another_agencys_payments_credit_and_invoices_are_not_found(
    outsider: Membership, api_as: Callable[[Membership], ApiClient], payer: Client
) -> None:
    api = api_as(outsider)
    invoice = issue_invoice(payer, "50.00")
    payment = record(payer, "50.00")

    answers = [
        api.get(f"/payments/{payment.pk}"),
        api.post(f"/payments/{payment.pk}/refunds", {"amount": "1.00", "reason": "Mine"}),
        api.get(f"/clients/{payer.pk}/credit"),
        api.post(f"/clients/{payer.pk}/credit/apply", {"invoice_id": invoice.pk, "amount": "1"}),
        api.get(f"/invoices/{invoice.pk}/payments"),
    ]

    assert [response.status_code for response in answers] == [404] * 5
    assert api.get("/payments").json()["items"] == []
    assert (Refund.objects.count(), state(invoice)) == (0, (InvoiceStatus.OPEN, 0))


@pytest.mark.parametrize("method", ["card", "us_bank_account"])
def test_card_and_ach_payments_cannot_be_recorded_by_hand(
    owner_api: ApiClient, payer: Client, method: str
) -> None:
    response = owner_api.post("/payments", body(payer, method=method))

    assert "method" in errors(response)
    assert not Payment.objects.exists()


def test_a_pending_bank_payment_reports_no_credit_and_a_failed_one_says_why(
    owner_api: ApiClient, payer: Client
) -> None:
    payment = pending_ach_payment(issue_invoice(payer, "100.00"), 10000)

    pending = owner_api.get(f"/payments/{payment.pk}").json()
    Payment.objects.filter(pk=payment.pk).update(status="failed", failure_message="Account closed")
    failed = owner_api.get(f"/payments/{payment.pk}").json()

    assert (pending["status"], pending["unallocated"], pending["fee"]) == ("pending", "0.00", None)
    assert (failed["status"], failed["failure_message"]) == ("failed", "Account closed")


@pytest.mark.parametrize("received_on", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_a_received_date_outside_the_date_window_is_refused(
    owner_api: ApiClient, payer: Client, received_on: str
) -> None:
    response = owner_api.post("/payments", body(payer, received_on=received_on))

    assert errors(response) == {
        "received_on": f"Enter a date from 2000 to {clock.now().year + 10}."
    }
    assert not Payment.objects.exists()


def test_recording_a_payment_reads_each_row_once_and_answers_without_reading_it_back(
    owner_api: ApiClient, payer: Client
) -> None:
    invoice = issue_invoice(payer, "100.00")
    owner_api.get("/payments")  # the token's first use is recorded once

    with CaptureQueriesContext(connection) as captured:
        response = owner_api.post(
            "/payments",
            body(
                payer,
                idempotency_key="form-42",
                allocations=[{"invoice_id": invoice.pk, "amount": "100.00"}],
            ),
        )

    assert response.status_code == 201, response.content
    assert response.json()["allocations"] == [
        {"invoice": {"id": invoice.pk, "number": invoice.number}, "amount": "100.00"}
    ]
    # The token, the client, the allocated invoices' ids; SAVEPOINT and RELEASE around the
    # service's 8 (locks, key lookup, 5 writes), its ledger entry with the client's balance,
    # its 2 rollup writes and what the client owes: nothing read back for the answer.
    statements = 3 + 2 + 8 + ledger_statements(1) + rollup_statements(2) + owed_row_statements(1)
    assert len(captured) == statements, [query["sql"][:80] for query in captured]
