"""Every URL and every API operation, enumerated from the URL conf and the OpenAPI schema:

- a member of another agency gets 404 on every object URL and API path;
- each role gets 403 exactly where the role matrix (accounts/roles.py, README) says so.

A new URL or API operation fails these tests until it is declared below.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clientledger.accounts.models import Agency, ApiToken, Invitation, Membership
from clientledger.accounts.roles import Perm, Role, role_allows, roles_allowing
from clientledger.accounts.services import api_token_create
from clientledger.billing.services.credit_notes import credit_note_create
from clientledger.billing.services.drafts import estimate_create, invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.core import clock
from clientledger.lines.data import LineData
from clientledger.payments.models import PaymentMethod, StripeEvent, StripeEventStatus
from clientledger.payments.services.manual import payment_record_manual
from clientledger.receivables.services.policies import reminder_policy_default
from clientledger.recurring.services import schedule_create
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    DealFactory,
    DealLineFactory,
    MembershipFactory,
    ServiceFactory,
    TaxRateFactory,
    unchecked_api_token,
)

pytestmark = pytest.mark.django_db

PUBLIC = "public"
SIGNED_IN = "signed in"

# URL name -> the permission it needs (PUBLIC: no login; SIGNED_IN: any member).
WEB_PERMS: dict[str, str] = {
    "home": Perm.VIEW,
    "healthz": PUBLIC,
    "accounts:login": PUBLIC,
    "accounts:logout": SIGNED_IN,
    "accounts:password_change": SIGNED_IN,
    "accounts:accept": PUBLIC,
    "accounts:agency_settings": Perm.AGENCY_SETTINGS,
    "accounts:number_preview": Perm.AGENCY_SETTINGS,
    "accounts:member_list": Perm.VIEW,
    "accounts:member_invite": Perm.MEMBERS_MANAGE,
    "accounts:member_change_role": Perm.MEMBERS_MANAGE,
    "accounts:member_deactivate": Perm.MEMBERS_MANAGE,
    "accounts:invitation_revoke": Perm.MEMBERS_MANAGE,
    "accounts:token_list": Perm.API_TOKENS,
    "accounts:token_create": Perm.API_TOKENS,
    "accounts:token_revoke": Perm.API_TOKENS,
    "crm:client_list": Perm.VIEW,
    "crm:client_options": Perm.VIEW,
    "crm:client_create": Perm.CRM_EDIT,
    "crm:client_detail": Perm.VIEW,
    "crm:client_edit": Perm.CRM_EDIT,
    "crm:client_delete": Perm.CRM_DELETE,
    "crm:contact_create": Perm.CRM_EDIT,
    "crm:contact_edit": Perm.CRM_EDIT,
    "crm:contact_delete": Perm.CRM_DELETE,
    "crm:deal_list": Perm.VIEW,
    "crm:deal_create": Perm.CRM_EDIT,
    "crm:deal_detail": Perm.VIEW,
    "crm:deal_edit": Perm.CRM_EDIT,
    "crm:deal_delete": Perm.CRM_DELETE,
    "crm:deal_move": Perm.CRM_EDIT,
    "crm:deal_lines": Perm.CRM_EDIT,
    "crm:deal_lines_totals": Perm.CRM_EDIT,
    "crm:pipeline": Perm.VIEW,
    "crm_csv:client_import": Perm.IMPORT,
    "crm_csv:client_import_template": Perm.IMPORT,
    "crm_csv:client_export": Perm.EXPORT,
    "catalog:service_list": Perm.VIEW,
    "catalog:service_create": Perm.CATALOG_EDIT,
    "catalog:service_edit": Perm.CATALOG_EDIT,
    "catalog:service_archive": Perm.CATALOG_EDIT,
    "catalog:service_restore": Perm.CATALOG_EDIT,
    "catalog:service_import": Perm.IMPORT,
    "catalog:service_import_template": Perm.IMPORT,
    "catalog:taxrate_list": Perm.VIEW,
    "catalog:taxrate_create": Perm.CATALOG_EDIT,
    "catalog:taxrate_edit": Perm.CATALOG_EDIT,
    "catalog:taxrate_archive": Perm.CATALOG_EDIT,
    "catalog:taxrate_restore": Perm.CATALOG_EDIT,
    "billing:estimate_list": Perm.VIEW,
    "billing:estimate_create": Perm.ESTIMATE_EDIT,
    "billing:estimate_create_from_deal": Perm.ESTIMATE_EDIT,
    "billing:estimate_detail": Perm.VIEW,
    "billing:estimate_edit": Perm.ESTIMATE_EDIT,
    "billing:estimate_lines": Perm.ESTIMATE_EDIT,
    "billing:estimate_lines_totals": Perm.ESTIMATE_EDIT,
    "billing:estimate_delete": Perm.ESTIMATE_EDIT,
    "billing:estimate_send": Perm.ESTIMATE_EDIT,
    "billing:estimate_convert": Perm.ESTIMATE_EDIT,
    "billing:estimate_links_revoke": Perm.ESTIMATE_EDIT,
    "billing:estimate_pdf": Perm.VIEW,
    "billing:invoice_list": Perm.VIEW,
    "billing:invoice_create": Perm.INVOICE_EDIT,
    "billing:invoice_create_from_deal": Perm.INVOICE_EDIT,
    "billing:invoice_detail": Perm.VIEW,
    "billing:invoice_edit": Perm.INVOICE_EDIT,
    "billing:invoice_lines": Perm.INVOICE_EDIT,
    "billing:invoice_lines_totals": Perm.INVOICE_EDIT,
    "billing:invoice_delete": Perm.INVOICE_EDIT,
    "billing:invoice_issue": Perm.INVOICE_EDIT,
    "billing:invoice_send": Perm.INVOICE_EDIT,
    "billing:invoice_void": Perm.INVOICE_EDIT,
    "billing:invoice_links_revoke": Perm.INVOICE_EDIT,
    "billing:invoice_pdf": Perm.VIEW,
    "billing:invoice_pdf_current": Perm.VIEW,
    "billing:invoice_credit": Perm.INVOICE_EDIT,
    "billing:credit_note_list": Perm.VIEW,
    "billing:credit_note_detail": Perm.VIEW,
    "billing:credit_note_edit": Perm.INVOICE_EDIT,
    "billing:credit_note_lines": Perm.INVOICE_EDIT,
    "billing:credit_note_delete": Perm.INVOICE_EDIT,
    "billing:credit_note_send": Perm.INVOICE_EDIT,
    "billing:credit_note_issue": Perm.INVOICE_EDIT,
    "billing:credit_note_settle": Perm.INVOICE_EDIT,
    "billing:credit_note_apply": Perm.INVOICE_EDIT,
    "billing:credit_note_links_revoke": Perm.INVOICE_EDIT,
    "billing:credit_note_pdf": Perm.VIEW,
    "payments:payment_list": Perm.VIEW,
    "payments:payment_create": Perm.PAYMENT_RECORD,
    "payments:payment_detail": Perm.VIEW,
    "payments:payment_refund": Perm.PAYMENT_RECORD,
    "payments:invoice_payments": Perm.VIEW,
    "payments:credit_apply": Perm.PAYMENT_RECORD,
    "payments:credit_note_refund": Perm.PAYMENT_RECORD,
    "payments:client_payments": Perm.VIEW,
    "payments:stripe_settings": Perm.AGENCY_SETTINGS,
    "payments:stripe_event_list": Perm.PAYMENT_RECORD,
    "payments:stripe_event_detail": Perm.PAYMENT_RECORD,
    "payments:stripe_event_reprocess": Perm.PAYMENT_RECORD,
    "recurring:schedule_list": Perm.VIEW,
    "recurring:schedule_detail": Perm.VIEW,
    "recurring:schedule_invoices": Perm.VIEW,
    "recurring:schedule_create_from_deal": Perm.INVOICE_EDIT,
    "recurring:schedule_new": Perm.INVOICE_EDIT,
    "recurring:schedule_create": Perm.INVOICE_EDIT,
    "recurring:schedule_create_totals": Perm.INVOICE_EDIT,
    "recurring:schedule_edit": Perm.INVOICE_EDIT,
    "recurring:schedule_lines": Perm.INVOICE_EDIT,
    "recurring:schedule_lines_totals": Perm.INVOICE_EDIT,
    "recurring:schedule_pause": Perm.INVOICE_EDIT,
    "recurring:schedule_resume": Perm.INVOICE_EDIT,
    "recurring:schedule_end": Perm.INVOICE_EDIT,
    "receivables:policy_settings": Perm.AGENCY_SETTINGS,
    "receivables:policy_create": Perm.AGENCY_SETTINGS,
    "receivables:policy_edit": Perm.AGENCY_SETTINGS,
    "receivables:invoice_reminders": Perm.VIEW,
    "receivables:invoice_reminders_pause": Perm.INVOICE_EDIT,
    "receivables:invoice_reminders_resume": Perm.INVOICE_EDIT,
    "receivables:client_reminders": Perm.VIEW,
    "receivables:client_reminders_edit": Perm.INVOICE_EDIT,
    "receivables:client_statement": Perm.VIEW,
    "receivables:client_statement_pdf": Perm.VIEW,
    "receivables:client_statement_send": Perm.INVOICE_EDIT,
    # Receivables and aging are for every member; revenue and MRR for Perm.REPORTS.
    "reporting:aging": Perm.VIEW,
    "reporting:aging_invoices": Perm.VIEW,
    "reporting:aging_csv": Perm.VIEW,
    "reporting:client_ledger_csv": Perm.VIEW,
    "reporting:revenue": Perm.REPORTS,
    "reporting:revenue_csv": Perm.REPORTS,
    "reporting:mrr": Perm.REPORTS,
    "reporting:mrr_csv": Perm.REPORTS,
    # The client portal: a document's token is the only key (unknown tokens are 404).
    "portal:document": PUBLIC,
    "portal:approve": PUBLIC,
    "portal:decline": PUBLIC,
    "portal:pdf": PUBLIC,
    "portal:pay": PUBLIC,
    "portal:pay_success": PUBLIC,
    "portal:pay_cancel": PUBLIC,
    "portal:statement": PUBLIC,
    "portal:statement_pdf": PUBLIC,
    # Stripe's events: the signature on the body is the only key (a bad one is 400).
    "stripe_webhook": PUBLIC,
    "logo": PUBLIC,
}
# Write endpoints answer 405 to GET, so they are probed with POST.
POST_ONLY = re.compile(
    r"(logout|_invite|_change_role|_deactivate|_revoke|token_create|_delete|_move|_archive"
    r"|_restore|_totals|_from_deal|_convert|_refund|credit_apply|:pay|_webhook|_reprocess"
    r"|_pause|_resume|credit_note_issue|invoice_credit)$"
)

# URL kwarg -> which row of the world it names; "pk" depends on the URL name's prefix.
PK_OWNER = [
    ("crm:client_", "client"),
    ("crm:contact_", "contact"),
    ("crm:deal_", "deal"),
    ("catalog:service_", "service"),
    ("catalog:taxrate_", "tax_rate"),
    ("accounts:member_", "membership"),
    ("accounts:invitation_", "invitation"),
    ("accounts:token_", "token"),
    ("billing:estimate_", "estimate"),
    ("billing:invoice_", "invoice"),
    ("billing:credit_note_", "credit_note"),
    ("payments:payment_", "payment"),
    ("payments:stripe_event_", "stripe_event"),
    ("recurring:schedule_", "schedule"),
    ("receivables:policy_", "reminder_policy"),
]
# URL kwargs that name the same row whatever the URL.
KWARG_OWNER = {
    "client_pk": "client",
    "deal_pk": "deal",
    "invoice_pk": "invoice",
    "credit_note_pk": "credit_note",
}
# URL kwargs that name no row of an agency, with the value the probes use.
NOT_A_ROW = {"token": "no-such-token", "path": "no-such-file.png"}
API_PARAMS = {
    "client_id": "client",
    "contact_id": "contact",
    "deal_id": "deal",
    "service_id": "service",
    "tax_rate_id": "tax_rate",
    "estimate_id": "estimate",
    "invoice_id": "invoice",
    "credit_note_id": "credit_note",
    "payment_id": "payment",
    "policy_id": "reminder_policy",
    "schedule_id": "schedule",
}


WORLD_SERIAL = itertools.count()


@dataclass
class World:
    """One agency with a row of every kind, and a member of each role."""

    agency: Agency
    members: dict[str, Membership]
    rows: dict[str, Any]


def failed_stripe_event(agency: Agency) -> StripeEvent:
    stripe_id = f"evt_probe_{next(WORLD_SERIAL)}"
    event_type = "payment_intent.succeeded"
    return StripeEvent.objects.create(
        stripe_id=stripe_id,
        agency=agency,
        type=event_type,
        payload={"id": stripe_id, "type": event_type, "data": {"object": {}}},
        status=StripeEventStatus.FAILED,
    )


def build_world(name: str) -> World:
    agency = AgencyFactory(name=name)
    members = {role: MembershipFactory(agency=agency, role=role) for role in Role.values}
    tax_rate = TaxRateFactory(agency=agency)
    deal = DealFactory(client__agency=agency, agency=agency)
    DealLineFactory(deal=deal, tax_1=tax_rate)
    token, _ = api_token_create(user=members[Role.SALES].user, name="probe")
    invitation = Invitation.objects.create(
        agency=agency,
        email=f"new@{name.lower()}.example",
        role=Role.SALES,
        token_hash=f"hash-{next(WORLD_SERIAL)}",
        expires_at=clock.now() + dt.timedelta(days=1),
    )
    rows = {
        "client": deal.client,
        "contact": ContactFactory(client=deal.client, agency=agency),
        "deal": deal,
        "service": ServiceFactory(agency=agency),
        "tax_rate": tax_rate,
        "membership": members[Role.VIEWER],
        "invitation": invitation,
        "token": token,
        "estimate": estimate_create(
            agency=agency,
            actor=None,
            client=deal.client,
            deal=deal,
            lines=[LineData(description="Design", quantity=Decimal(1), unit_price=Decimal(10))],
        ),
        "invoice": invoice_create(
            agency=agency,
            actor=None,
            client=deal.client,
            deal=deal,
            lines=[LineData(description="Design", quantity=Decimal(1), unit_price=Decimal(10))],
        ),
        "payment": payment_record_manual(
            agency=agency,
            actor=None,
            client=deal.client,
            amount=Decimal(10),
            currency=deal.client.currency,
            received_on=clock.now().date(),
            method=PaymentMethod.BANK_TRANSFER,
            allocations=[],
        ),
        "stripe_event": failed_stripe_event(agency),
        "schedule": schedule_create(
            agency=agency,
            actor=None,
            client=deal.client,
            name="Retainer",
            lines=[LineData(description="Care", quantity=Decimal(1), unit_price=Decimal(10))],
            start_date=clock.now().date(),
        ),
        "reminder_policy": reminder_policy_default(agency=agency),
    }
    issued_invoice = invoice_issue(
        invoice=invoice_create(
            agency=agency,
            actor=None,
            client=deal.client,
            lines=[LineData(description="Design", quantity=Decimal(1), unit_price=Decimal(10))],
        ),
        actor=None,
    )
    rows["issued_invoice"] = issued_invoice
    rows["credit_note"] = credit_note_create(invoice=issued_invoice, actor=None, reason="Probe")
    return World(agency, members, rows)


def web_urls() -> Iterator[tuple[str, list[str]]]:
    def walk(patterns: list[Any], namespace: str | None) -> Iterator[tuple[str, list[str]]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "api":
                    continue
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, list(pattern.pattern.regex.groupindex)

    yield from walk(get_resolver().url_patterns, None)


WEB_URLS = dict(web_urls())


def row_for(url_name: str, kwarg: str, world: World) -> Any:
    if kwarg in KWARG_OWNER:
        return world.rows[KWARG_OWNER[kwarg]]
    for prefix, row in PK_OWNER:
        if url_name.startswith(prefix):
            return world.rows[row]
    raise AssertionError(f"declare which row {url_name}'s <{kwarg}> names in PK_OWNER")


def web_path(url_name: str, world: World) -> str:
    kwargs: dict[str, Any] = {}
    for kwarg in WEB_URLS[url_name]:
        if kwarg in NOT_A_ROW:
            kwargs[kwarg] = NOT_A_ROW[kwarg]
        else:
            kwargs[kwarg] = row_for(url_name, kwarg, world).pk
    return reverse(url_name, kwargs=kwargs)


def request(http: HttpClient, url_name: str, path: str) -> int:
    send = http.post if POST_ONLY.search(url_name) else http.get
    return send(path).status_code


def test_every_url_is_declared_in_the_role_matrix() -> None:
    assert set(WEB_URLS) == set(WEB_PERMS), (
        f"undeclared: {sorted(set(WEB_URLS) - set(WEB_PERMS))}, "
        f"stale: {sorted(set(WEB_PERMS) - set(WEB_URLS))}"
    )


OBJECT_URLS = sorted(
    name for name, kwargs in WEB_URLS.items() if any(k not in NOT_A_ROW for k in kwargs)
)


@pytest.mark.parametrize("url_name", OBJECT_URLS)
def test_another_agencys_objects_are_404_on_every_object_url(url_name: str) -> None:
    ours, theirs = build_world("Ours"), build_world("Theirs")
    http = HttpClient()
    http.force_login(ours.members[Role.OWNER].user)
    status = request(http, url_name, web_path(url_name, theirs))
    assert status == 404, f"{url_name} answered {status} for another agency's object"


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(
    "url_name", sorted(n for n, p in WEB_PERMS.items() if p not in (PUBLIC, SIGNED_IN))
)
def test_each_role_is_refused_exactly_where_the_matrix_says(url_name: str, role: str) -> None:
    perm = WEB_PERMS[url_name]
    world = build_world("Ours")
    member = world.members[role]
    # People manage their own API tokens only (a viewer's is one left from before).
    world.rows["token"], _ = unchecked_api_token(member)
    http = HttpClient()
    http.force_login(member.user)
    status = request(http, url_name, web_path(url_name, world))
    if role_allows(role, perm):
        assert status not in (403, 404), f"{role} should reach {url_name}, got {status}"
    else:
        assert status == 403, f"{role} must not reach {url_name}, got {status}"


@pytest.mark.parametrize("url_name", sorted(n for n, p in WEB_PERMS.items() if p != PUBLIC))
def test_anonymous_visitors_are_sent_to_the_login_page(url_name: str) -> None:
    world = build_world("Ours")
    response = HttpClient().get(web_path(url_name, world))
    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("accounts:login"))


# --- API --------------------------------------------------------------------------------

CATALOG_PATHS = ("/services", "/tax-rates")
# Every write to a document or a recurring schedule, deleting a draft included, needs its edit
# permission.
DOCUMENT_EDIT_PERMS = {
    "/estimates": Perm.ESTIMATE_EDIT,
    "/invoices": Perm.INVOICE_EDIT,
    "/credit-notes": Perm.INVOICE_EDIT,
    "/schedules": Perm.INVOICE_EDIT,
}
# Recording payments, refunding them (a credit note's credit too) and spending a client's
# credit move money.
PAYMENT_WRITE_PATHS = (
    "/payments",
    "/clients/{client_id}/credit",
    "/credit-notes/{credit_note_id}/refund",
)


def api_operations() -> list[tuple[str, str]]:
    schema = HttpClient().get("/api/v1/openapi.json").json()
    return sorted(
        (method.upper(), path) for path, methods in schema["paths"].items() for method in methods
    )


# The dashboard's figures beyond receivables and aging are for Perm.REPORTS.
REPORTS_PATHS = ("/reports/dso", "/reports/mrr", "/reports/revenue")


def api_perm(method: str, path: str) -> str:
    if any(path == f"/api/v1{prefix}" for prefix in REPORTS_PATHS):
        return Perm.REPORTS
    if method == "GET":
        return Perm.VIEW
    if path.startswith("/api/v1/reminder-policies"):
        return Perm.AGENCY_SETTINGS
    if any(path.startswith(f"/api/v1{prefix}") for prefix in PAYMENT_WRITE_PATHS):
        return Perm.PAYMENT_RECORD
    for prefix, perm in DOCUMENT_EDIT_PERMS.items():
        if path.startswith(f"/api/v1{prefix}"):
            return perm
    if method == "DELETE":
        return Perm.CRM_DELETE
    catalog = any(path.startswith(f"/api/v1{prefix}") for prefix in CATALOG_PATHS)
    return Perm.CATALOG_EDIT if catalog else Perm.CRM_EDIT


def api_path(path: str, world: World) -> str:
    def fill(match: re.Match[str]) -> str:
        return str(world.rows[API_PARAMS[match.group(1)]].pk)

    return re.sub(r"\{(\w+)\}", fill, path)


def bearer(world: World, role: str) -> dict[str, str]:
    _, key = api_token_create(user=world.members[role].user, name=f"{role} token")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def valid_body(method: str, path: str, world: World) -> dict[str, Any]:
    """A body that passes validation, so only tenancy or the role can refuse the call."""
    if method == "PUT" and path.endswith("/lines"):
        return {"lines": [{"description": "Design", "quantity": "1", "unit_price": "10"}]}
    if method != "POST":
        return {}
    bodies: dict[str, dict[str, Any]] = {
        "/api/v1/clients": {"name": "New client", "currency": "USD"},
        "/api/v1/clients/{client_id}/contacts": {"name": "New contact"},
        "/api/v1/deals": {"title": "New deal", "client_id": world.rows["client"].pk},
        "/api/v1/deals/{deal_id}/move": {"stage": "won"},
        "/api/v1/services": {"name": "New service", "default_unit_price": "10", "currency": "USD"},
        "/api/v1/tax-rates": {"name": "New rate", "percent": "7"},
        "/api/v1/estimates": {"client_id": world.rows["client"].pk},
        "/api/v1/estimates/{estimate_id}/send": {"recipients": ["ap@client.example"]},
        "/api/v1/invoices": {"client_id": world.rows["client"].pk},
        "/api/v1/invoices/{invoice_id}/send": {"recipients": ["ap@client.example"]},
        "/api/v1/invoices/{invoice_id}/void": {"reason": "Issued by mistake"},
        "/api/v1/invoices/{invoice_id}/reminders/pause": {"reason": "Paying next week"},
        "/api/v1/credit-notes": {"invoice_id": world.rows["issued_invoice"].pk, "reason": "Probe"},
        "/api/v1/credit-notes/{credit_note_id}/send": {"recipients": ["ap@client.example"]},
        "/api/v1/credit-notes/{credit_note_id}/refund": {"amount": "1.00", "reason": "Goodwill"},
        "/api/v1/payments": {
            "client_id": world.rows["client"].pk,
            "amount": "10.00",
            "received_on": "2026-11-24",
            "method": "bank_transfer",
        },
        "/api/v1/payments/{payment_id}/refunds": {"amount": "1.00", "reason": "Goodwill"},
        "/api/v1/schedules": {
            "client_id": world.rows["client"].pk,
            "name": "Care plan",
            "start_date": "2026-12-01",
            "lines": [{"description": "Care", "quantity": "1", "unit_price": "10"}],
        },
        "/api/v1/clients/{client_id}/credit/apply": {
            "invoice_id": world.rows["invoice"].pk,
            "amount": "1.00",
        },
    }
    return bodies.get(path, {})


def call(method: str, path: str, world: World, headers: dict[str, Any]) -> int:
    body = json.dumps(valid_body(method, path, world))
    return (
        HttpClient()
        .generic(
            method, api_path(path, world), data=body, content_type="application/json", **headers
        )
        .status_code
    )


def test_the_api_schema_lists_operations_for_every_resource() -> None:
    paths = {path for _, path in api_operations()}
    for resource in ("clients", "contacts", "deals", "services", "tax-rates", "schedules"):
        assert any(resource in path for path in paths), resource


def test_another_agencys_objects_are_404_on_every_api_path() -> None:
    ours, theirs = build_world("Ours"), build_world("Theirs")
    headers = bearer(ours, Role.OWNER)
    failures = []
    for method, path in api_operations():
        if "{" not in path:
            continue
        status = call(method, path, theirs, headers)
        if status != 404:
            failures.append(f"{method} {path}: {status}")
    assert failures == []


@pytest.mark.parametrize("role", roles_allowing(Perm.API_TOKENS))
def test_each_role_meets_the_matrix_on_every_api_operation(role: str) -> None:
    failures = []
    for method, path in api_operations():
        world = build_world("Ours")
        status = call(method, path, world, bearer(world, role))
        allowed = role_allows(role, api_perm(method, path))
        if allowed and status in (401, 403, 404):
            failures.append(f"{role} should reach {method} {path}, got {status}")
        if not allowed and status != 403:
            failures.append(f"{role} must not reach {method} {path}, got {status}")
        ApiToken.objects.all().delete()
    assert failures == []


@pytest.mark.parametrize("role", sorted(set(Role.values) - set(roles_allowing(Perm.API_TOKENS))))
def test_a_role_barred_from_tokens_reaches_no_api_operation_with_one_left_from_before(
    role: str,
) -> None:
    world = build_world("Ours")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {unchecked_api_token(world.members[role])[1]}"}
    for method, path in api_operations():
        if path.endswith(("openapi.json", "/docs")):
            continue
        assert call(method, path, world, headers) == 401, f"{method} {path}"


def test_the_api_refuses_requests_without_a_valid_token() -> None:
    world = build_world("Ours")
    for method, path in api_operations():
        if path.endswith(("openapi.json", "/docs")):
            continue
        assert call(method, path, world, {}) == 401, f"{method} {path}"
