from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest
from django.test import RequestFactory

from clientledger.accounts.models import Agency, Membership, User
from clientledger.accounts.roles import Role
from clientledger.billing.ledger import credit_mismatches, ledger_mismatches
from clientledger.billing.models import CreditNote, CreditSettlement, Estimate, Invoice
from clientledger.billing.selectors.credits import credit_note_remaining_minor
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.core import clock
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage
from clientledger.crm.selectors import deal_totals
from clientledger.demo import loader
from clientledger.demo.data.agency import DEMO_PASSWORD, OWNER_EMAIL
from clientledger.demo.loader import demo_load
from clientledger.lines.choices import Recurrence
from clientledger.payments.models import Payment
from clientledger.payments.selectors import client_credit_minor
from clientledger.recurring.models import (
    BillingRun,
    RecurringPeriod,
    RecurringSchedule,
    ScheduleStatus,
)

pytestmark = pytest.mark.django_db
PASSWORD = "sunny-side-up-42"
DEMO_MODELS = (
    Agency,
    User,
    Membership,
    TaxRate,
    Service,
    Client,
    Contact,
    Deal,
    DealLine,
    AuditEvent,
)


@pytest.fixture
def demo_agency() -> Agency:
    assert demo_load(password=PASSWORD, stdout=StringIO()) is True
    return Agency.objects.get(name="Brightside Digital")


def sign_in_request() -> HttpRequest:
    """Sign-ins are throttled per request (django-axes), so authenticate() is given one."""
    return RequestFactory().post("/accounts/login/")


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def test_the_demo_agency_has_its_settings_and_one_member_per_role(demo_agency: Agency) -> None:
    assert demo_agency.default_currency == "USD"
    assert demo_agency.timezone == "America/New_York"
    assert demo_agency.default_payment_terms_days == 30
    assert demo_agency.tax_id and demo_agency.legal_address and demo_agency.brand_color
    roles = Membership.objects.filter(agency=demo_agency).values_list("role", flat=True)
    assert sorted(roles) == sorted(Role.values)
    assert Membership.objects.get(user__email=OWNER_EMAIL).role == Role.OWNER


def test_every_demo_user_signs_in_with_the_given_password(demo_agency: Agency) -> None:
    for membership in Membership.objects.filter(agency=demo_agency).select_related("user"):
        assert (
            authenticate(sign_in_request(), username=membership.user.email, password=PASSWORD)
            == membership.user
        )
    assert authenticate(sign_in_request(), username=OWNER_EMAIL, password=DEMO_PASSWORD) is None


def test_the_catalog_covers_every_kind_of_pricing(demo_agency: Agency) -> None:
    services = Service.objects.filter(agency=demo_agency)
    assert services.count() >= 12
    assert {UnitType.HOUR, UnitType.DAY, UnitType.FIXED, UnitType.MONTH} <= set(
        services.values_list("unit_type", flat=True)
    )
    assert services.exclude(archived_at=None).count() == 1
    assert TaxRate.objects.filter(agency=demo_agency, is_inclusive=False).count() >= 2
    assert services.filter(name="SEO retainer", default_unit_price__gt=0).exists()


def test_clients_bill_in_several_currencies_each_with_one_billing_contact(
    demo_agency: Agency,
) -> None:
    clients = Client.objects.filter(agency=demo_agency).annotate(
        contact_count=Count("contacts"),
        billing_count=Count("contacts", filter=Q(contacts__is_billing_contact=True)),
    )
    assert clients.count() >= 15
    assert {"USD", "EUR", "GBP"} <= set(clients.values_list("currency", flat=True))
    assert clients.filter(currency="USD").count() > clients.count() / 2
    assert clients.filter(tax_exempt=True).count() == 1
    assert clients.filter(payment_terms_days=14).count() == 1
    for client in clients:
        assert 1 <= client.contact_count <= 3, client
        assert client.billing_count == 1, client
        assert client.billing_email and client.address_line1 and client.country, client


def test_deals_fill_every_pipeline_stage_and_each_has_catalog_lines(demo_agency: Agency) -> None:
    deals = Deal.objects.filter(agency=demo_agency).annotate(line_count=Count("lines"))
    assert deals.count() >= 20
    assert set(deals.values_list("stage", flat=True)) == set(DealStage.values)
    assert all(1 <= deal.line_count <= 5 for deal in deals)
    assert not DealLine.objects.filter(agency=demo_agency, service=None).exists()
    owner_roles = set(deals.values_list("owner__membership__role", flat=True))
    assert owner_roles <= {Role.OWNER, Role.ADMIN, Role.SALES}
    assert not deals.filter(expected_close_date=None).exists()


def test_deal_lines_include_discounts_recurring_retainers_and_taxes(demo_agency: Agency) -> None:
    lines = DealLine.objects.filter(agency=demo_agency)
    assert {"percent", "amount"} <= set(lines.values_list("discount_kind", flat=True))
    assert {Recurrence.MONTHLY, Recurrence.QUARTERLY} <= set(
        lines.values_list("recurrence", flat=True)
    )
    assert lines.exclude(tax_1=None).exists()
    archived = lines.filter(service__archived_at__isnull=False)
    assert archived.exists()
    assert set(archived.values_list("deal__stage", flat=True)) == {DealStage.WON}


def test_a_tax_exempt_clients_deal_carries_no_tax(demo_agency: Agency) -> None:
    deal = Deal.objects.get(agency=demo_agency, client__tax_exempt=True)
    totals = deal_totals(deal=deal)
    assert totals is not None
    assert totals.tax_total == Decimal("0.00")
    assert totals.total == totals.subtotal > 0


def test_the_audit_timeline_records_who_created_what(demo_agency: Agency) -> None:
    events = AuditEvent.objects.filter(agency=demo_agency)
    verbs = set(events.values_list("verb", flat=True))
    assert {
        "agency.created",
        "member.joined",
        "tax_rate.created",
        "service.created",
        "service.archived",
        "client.created",
        "contact.created",
        "deal.created",
        "deal.lines_saved",
        "deal.stage_changed",
    } <= verbs
    assert events.filter(verb="client.created").count() == Client.objects.count()
    # Only the clients' own answers, given through the portal, and the billing run's retainer
    # invoices have no staff actor.
    assert set(events.filter(actor=None).values_list("verb", flat=True)) == {
        "estimate.approved",
        "estimate.declined",
        "invoice.created",
        "invoice.issued",
        "invoice.sent",
    }


def test_the_demo_has_estimates_and_issued_invoices_in_every_state(demo_agency: Agency) -> None:
    estimates = set(Estimate.objects.filter(agency=demo_agency).values_list("status", flat=True))
    assert {"sent", "converted", "declined"} <= estimates
    invoices = Invoice.objects.filter(agency=demo_agency)
    assert invoices.count() >= 5 and not invoices.filter(number="").exists()
    assert ledger_mismatches(agency=demo_agency) == []


def test_loading_twice_changes_nothing_and_says_so(demo_agency: Agency) -> None:
    before = counts()
    out = StringIO()
    assert demo_load(password="another-password", stdout=out) is False
    assert "Demo data already loaded" in out.getvalue()
    assert counts() == before
    assert authenticate(sign_in_request(), username=OWNER_EMAIL, password=PASSWORD) is not None


def priced_total(deal: Deal) -> Decimal:
    totals = deal_totals(deal=deal)
    assert totals is not None, f"{deal.title} cannot be priced"
    return totals.total


def test_the_amounts_are_the_same_on_every_load() -> None:
    def pipeline_totals() -> list[tuple[str, Decimal]]:
        deals = Deal.objects.select_related("client", "agency").order_by("title", "client__name")
        return [(deal.title, priced_total(deal)) for deal in deals]

    with transaction.atomic():
        demo_load(password=PASSWORD, stdout=StringIO())
        first = pipeline_totals()
        transaction.set_rollback(True)
    assert Agency.objects.count() == 0
    demo_load(password=PASSWORD, stdout=StringIO())
    assert pipeline_totals() == first
    assert sum(total for _, total in first) > 0


def test_a_failure_half_way_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**kwargs: object) -> None:
        raise ValidationError({"lines": "refused by the test"})

    monkeypatch.setattr(loader, "deal_lines_replace", refuse)
    with pytest.raises(ValidationError):
        demo_load(password=PASSWORD, stdout=StringIO())
    assert all(count == 0 for count in counts().values()), counts()


def test_the_command_prints_progress_and_the_owner_login() -> None:
    out = StringIO()
    call_command("demo", password=PASSWORD, stdout=out)
    output = out.getvalue()
    assert f"Created {Client.objects.count()} clients" in output
    assert f"Created {Deal.objects.count()} deals" in output
    assert f"Owner login: {OWNER_EMAIL} / {PASSWORD}" in output


def test_the_command_uses_the_documented_default_password() -> None:
    call_command("demo", stdout=StringIO())
    assert DEMO_PASSWORD == "ledger-demo-2026"
    assert authenticate(sign_in_request(), username=OWNER_EMAIL, password=DEMO_PASSWORD) is not None


def test_the_command_refuses_an_empty_password() -> None:
    with pytest.raises(CommandError, match="password"):
        call_command("demo", password="", stdout=StringIO())
    assert not Agency.objects.exists()


def test_the_demo_has_payments_in_full_in_part_and_a_client_credit(demo_agency: Agency) -> None:
    invoices = Invoice.objects.filter(agency=demo_agency, recurring_period__isnull=True)
    paid = invoices.filter(status="paid").count()
    partly = invoices.filter(status="open", amount_paid_minor__gt=0).count()
    credits = [
        client_credit_minor(agency=demo_agency, client=client)
        for client in Client.objects.filter(agency=demo_agency)
    ]

    assert (
        Payment.objects.filter(agency=demo_agency, reference__startswith="Remittance").count() == 3
    )
    assert (paid, partly) == (2, 1)
    # One client overpaid; another keeps a goodwill credit note.
    assert sum(1 for credit in credits if credit > 0) == 2
    assert ledger_mismatches(agency=demo_agency) == []


def test_the_demo_invoices_tell_the_client_how_to_pay_without_stripe(
    demo_agency: Agency,
) -> None:
    assert "routing" in demo_agency.payment_instructions
    invoices = Invoice.objects.filter(agency=demo_agency).exclude(status="draft")
    assert invoices and all(
        invoice.seller_snapshot["payment_instructions"] == demo_agency.payment_instructions
        for invoice in invoices
    )


def test_the_demo_has_a_partial_credit_note_applied_and_one_kept_as_credit(
    demo_agency: Agency,
) -> None:
    applied, kept = CreditNote.objects.filter(agency=demo_agency).order_by("number")
    assert (applied.settlement, kept.settlement) == (CreditSettlement.APPLY, CreditSettlement.KEEP)
    credited = applied.invoice
    assert 0 < applied.total_minor < credited.total_minor
    assert credited.amount_credited_minor == applied.total_minor
    assert applied.lines.get().invoice_line_id is not None
    assert credit_note_remaining_minor(applied) == 0
    assert credit_note_remaining_minor(kept) == kept.total_minor > 0
    assert ledger_mismatches(agency=demo_agency) == [] and credit_mismatches() == []


def test_the_demo_has_monthly_quarterly_and_yearly_retainers_with_billed_history(
    demo_agency: Agency,
) -> None:
    schedules = RecurringSchedule.objects.filter(agency=demo_agency, status=ScheduleStatus.ACTIVE)
    frequencies = {(s.interval_unit, s.interval_count) for s in schedules}
    billed = RecurringPeriod.objects.filter(agency=demo_agency)
    today = clock.agency_today(demo_agency)

    assert {("month", 1), ("month", 3), ("month", 12)} <= frequencies
    assert schedules.filter(deal__isnull=False).exists()
    assert all(period.invoice is not None for period in billed)
    assert billed.filter(start_date__lt=today.replace(day=1)).count() >= 8
    assert all(s.next_period_start is None or s.next_period_start > today for s in schedules)
    assert BillingRun.objects.filter(agency=demo_agency).count() >= 6


def test_the_retainers_history_is_partly_paid_and_the_ledger_reconciles(
    demo_agency: Agency,
) -> None:
    invoices = Invoice.objects.filter(agency=demo_agency, recurring_period__isnull=False)
    states = {
        "paid": invoices.filter(status="paid").count(),
        "partly": invoices.filter(status="open", amount_paid_minor__gt=0).count(),
        "unpaid": invoices.filter(status="open", amount_paid_minor=0).count(),
    }

    assert states["paid"] >= 5 and states["partly"] == 2 and states["unpaid"] >= 3
    assert ledger_mismatches(agency=demo_agency) == []
    call_command("reconcile", stdout=StringIO())
