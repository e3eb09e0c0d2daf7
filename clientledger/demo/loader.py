"""The demo agency "Brightside Digital": a realistic team, catalog, client book, pipeline and
retainers with a few months of billing behind them.

Everything is created through the services, so validation runs and the audit timeline reads
like real use, inside one transaction so a failure leaves nothing half-made. The data are
explicit lists rather than random draws: amounts are the same on every machine and run;
only the expected close dates move with today. The data themselves live in `demo/data/`.
"""

from __future__ import annotations

import datetime as dt
from io import TextIOBase

from django.db import transaction

from clientledger.accounts.models import Agency, Membership, User
from clientledger.accounts.roles import Role
from clientledger.accounts.services import agency_create, membership_create
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.services.drafts import estimate_create_from_deal
from clientledger.billing.services.estimates import (
    estimate_approve,
    estimate_convert,
    estimate_decline,
)
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.sending import estimate_send
from clientledger.catalog.models import Service, TaxRate
from clientledger.catalog.services import service_create, service_set_archived, tax_rate_create
from clientledger.core import clock
from clientledger.core.money import from_minor, quantize
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.crm.services import (
    client_create,
    contact_create,
    deal_create,
    deal_lines_replace,
    deal_move,
)
from clientledger.demo.credit_notes import credit_notes_create
from clientledger.demo.data.agency import (
    AGENCY_NAME,
    AGENCY_SETTINGS,
    ARCHIVED_SERVICE,
    DEMO_EMAILS,
    DEMO_PAYMENTS,
    OWNER_EMAIL,
    OWNER_NAME,
    SALES_TAX,
    SERVICES,
    TAX_RATES,
    TEAMMATES,
    WON_INVOICED_DAYS_AGO,
)
from clientledger.demo.data.clients import CLIENTS
from clientledger.demo.data.deals import CLOSED_STAGES, DEALS
from clientledger.demo.lines import line_data
from clientledger.demo.retainers import retainers_create
from clientledger.payments.services.manual import payment_record_manual


def demo_load(*, password: str, stdout: TextIOBase) -> bool:
    """Create the demo agency with its data; False (and nothing changed) if it is already there."""
    if not password:
        raise ValueError("password: enter a password for the demo users")
    with transaction.atomic():
        if User.objects.filter(email__in=DEMO_EMAILS).exists():
            stdout.write("Demo data already loaded; nothing was changed.\n")
            return False
        team = _team_create(password)
        agency, owner = team[Role.OWNER].agency, team[Role.OWNER].user
        stdout.write(f"Created the agency {agency.name} with {len(team)} team members\n")
        taxes = _tax_rates_create(agency, owner)
        stdout.write(f"Created {len(taxes)} tax rates\n")
        services = _services_create(agency, owner, taxes)
        stdout.write(f"Created {len(services)} services\n")
        clients = _clients_create(agency, team[Role.SALES].user)
        contact_count = sum(len(seed.contacts) for seed in CLIENTS)
        stdout.write(f"Created {len(clients)} clients with {contact_count} contacts\n")
        _deals_create(agency, team, clients, services, taxes)
        line_count = sum(len(seed.lines) for seed in DEALS)
        stdout.write(f"Created {len(DEALS)} deals with {line_count} service lines\n")
        # Archived last: the won deals above still show it, new ones can no longer add it.
        service_set_archived(service=services[ARCHIVED_SERVICE], actor=owner, archived=True)
        stdout.write(f"Archived the service {ARCHIVED_SERVICE}\n")
        estimates, invoices = _documents_create(agency, team)
        stdout.write(f"Created {estimates} estimates and {invoices} invoices\n")
        payments = _payments_create(agency, team[Role.FINANCE].user)
        stdout.write(f"Recorded {payments} payments\n")
        credit_notes = credit_notes_create(agency, team[Role.FINANCE].user)
        stdout.write(f"Issued {credit_notes} credit notes\n")
        retainers, runs = retainers_create(
            agency, team[Role.FINANCE].user, clients, services, taxes
        )
        stdout.write(f"Set up {retainers} retainers, billed by {runs} billing runs\n")
    return True


def _team_create(password: str) -> dict[str, Membership]:
    owner = agency_create(
        name=AGENCY_NAME,
        owner_email=OWNER_EMAIL,
        owner_name=OWNER_NAME,
        owner_password=password,
        **AGENCY_SETTINGS,
    )
    team: dict[str, Membership] = {Role.OWNER: owner}
    for role, (email, full_name) in TEAMMATES.items():
        # The whole demo team shares one password, so its hash is computed once: a
        # production hasher takes about half a second per hash.
        team[role] = membership_create(
            agency=owner.agency,
            actor=owner.user,
            email=email,
            full_name=full_name,
            role=role,
            password_hash=owner.user.password,
        )
    return team


def _tax_rates_create(agency: Agency, actor: User) -> dict[str, TaxRate]:
    return {
        name: tax_rate_create(agency=agency, actor=actor, name=name, percent=percent)
        for name, percent in TAX_RATES
    }


def _services_create(agency: Agency, actor: User, taxes: dict[str, TaxRate]) -> dict[str, Service]:
    return {
        seed.name: service_create(
            agency=agency,
            actor=actor,
            name=seed.name,
            description=seed.description,
            unit_type=seed.unit_type,
            default_unit_price=seed.price,
            currency=agency.default_currency,
            default_tax_1=taxes[SALES_TAX] if seed.taxable else None,
        )
        for seed in SERVICES
    }


def _clients_create(agency: Agency, actor: User) -> dict[str, Client]:
    clients = {}
    for seed in CLIENTS:
        client = client_create(
            agency=agency,
            actor=actor,
            name=seed.name,
            billing_email=seed.billing_email,
            address_line1=seed.address.line1,
            address_line2=seed.address.line2,
            city=seed.address.city,
            postal_code=seed.address.postal_code,
            region=seed.address.region,
            country=seed.address.country,
            currency=seed.currency,
            tax_id=seed.tax_id,
            tax_exempt=seed.tax_exempt,
            payment_terms_days=seed.payment_terms_days,
            notes=seed.notes,
        )
        for contact in seed.contacts:
            contact_create(
                client=client,
                actor=actor,
                name=contact.name,
                email=contact.email,
                phone=contact.phone,
                job_title=contact.job_title,
                is_billing_contact=contact.billing,
            )
        clients[seed.name] = client
    return clients


def _deals_create(
    agency: Agency,
    team: dict[str, Membership],
    clients: dict[str, Client],
    services: dict[str, Service],
    taxes: dict[str, TaxRate],
) -> None:
    today = clock.agency_today(agency)
    for seed in DEALS:
        owner = team[seed.owner_role].user
        client = clients[seed.client]
        deal = deal_create(
            agency=agency,
            actor=owner,
            title=seed.title,
            client=client,
            owner=owner,
            # Closed deals went through a proposal first, so their timeline shows the move.
            stage=DealStage.PROPOSAL if seed.stage in CLOSED_STAGES else seed.stage,
            expected_close_date=today + dt.timedelta(days=seed.close_in_days),
        )
        deal_lines_replace(
            deal=deal,
            actor=owner,
            lines=[line_data(line, services[line.service], client, taxes) for line in seed.lines],
        )
        if seed.stage in CLOSED_STAGES:
            deal_move(deal=deal, actor=owner, stage=seed.stage)


def _documents_create(agency: Agency, team: dict[str, Membership]) -> tuple[int, int]:
    """Estimates and invoices through the real services: sent, approved, declined, issued."""
    finance, sales = team[Role.FINANCE].user, team[Role.SALES].user
    today = clock.agency_today(agency)
    estimates = invoices = 0
    deals = Deal.objects.filter(agency=agency).select_related("client").order_by("id")
    won = [deal for deal in deals if deal.stage == DealStage.WON]
    for deal, days_ago in zip(won, WON_INVOICED_DAYS_AGO, strict=False):
        estimate = estimate_create_from_deal(deal=deal, actor=sales)
        estimate = estimate_send(estimate=estimate, actor=sales, recipients=_recipients(deal))
        estimate = estimate_approve(
            estimate=estimate, name=_billing_name(deal), ip="203.0.113.7", user_agent="Demo"
        )
        invoice = estimate_convert(estimate=estimate, actor=finance)
        invoice_issue(
            invoice=invoice, actor=finance, issue_date=today - dt.timedelta(days=days_ago)
        )
        estimates, invoices = estimates + 1, invoices + 1
    for deal in deals:
        if deal.stage == DealStage.PROPOSAL:
            estimate = estimate_create_from_deal(deal=deal, actor=deal.owner)
            estimate_send(estimate=estimate, actor=deal.owner, recipients=_recipients(deal))
            estimates += 1
        elif deal.stage == DealStage.LOST:
            estimate = estimate_create_from_deal(deal=deal, actor=deal.owner)
            estimate = estimate_send(
                estimate=estimate, actor=deal.owner, recipients=_recipients(deal)
            )
            estimate_decline(estimate=estimate, reason="We went with an in-house team.")
            estimates += 1
    return estimates, invoices


def _payments_create(agency: Agency, actor: User) -> int:
    """Manual payments through the real service, received two days ago."""
    received_on = clock.agency_today(agency) - dt.timedelta(days=2)
    invoices = (
        Invoice.objects.filter(agency=agency, status=InvoiceStatus.OPEN)
        .select_related("client")
        .order_by("due_date", "id")
    )
    recorded = 0
    for invoice, (share, extra, method) in zip(invoices, DEMO_PAYMENTS, strict=False):
        balance = from_minor(invoice.balance_due_minor, invoice.currency)
        paid = quantize(balance * share, invoice.currency)
        payment_record_manual(
            agency=agency,
            actor=actor,
            client=invoice.client,
            amount=paid + extra,
            currency=invoice.currency,
            received_on=received_on,
            method=method,
            reference=f"Remittance {invoice.number}",
            allocations=[(invoice, paid)],
        )
        recorded += 1
    return recorded


def _recipients(deal: Deal) -> list[str]:
    return [deal.client.billing_email]


def _billing_name(deal: Deal) -> str:
    billing = deal.client.contacts.filter(is_billing_contact=True).first()
    return billing.name if billing else ""
