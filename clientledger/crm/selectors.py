"""Reads of clients, contacts, deals and the pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.lookups import GreaterThan

from clientledger.accounts.models import Agency, User
from clientledger.core import clock
from clientledger.core.audit import TimelineEntry, timeline_entries
from clientledger.core.models import AuditEvent
from clientledger.core.money import plain_decimal
from clientledger.core.pagination import Page, keyset_page
from clientledger.core.query import count_subquery, first_rows_totalled
from clientledger.crm.finance import (
    PanelContent,
    RecordDocumentsSummary,
    client_finance,
    client_panels,
    deal_panels,
)
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage, DealValue
from clientledger.lines.calculations.values import DocumentTotals, LineResult
from clientledger.lines.pricing import PriceableLine
from clientledger.lines.selectors import LinesValue, lines_value

L = TypeVar("L")

DEAL_LINES = Prefetch(
    "lines",
    queryset=DealLine.objects.select_related("service", "tax_1", "tax_2").order_by(
        "position", "id"
    ),
)
CLIENT_ORDERING = ("name", "id")
# The client and deal lists sort by name (clients), recency (deals) or what is owed, most
# first; `outstanding_minor` and `overdue_minor` come from billing through `crm.finance`.
OWED_ORDERINGS = {
    "outstanding": ("-outstanding_minor", "id"),
    "overdue": ("-overdue_minor", "id"),
}
DEAL_ORDERING = ("-updated_at", "-id")
# A client page lists its most recent deals; the deal list filtered by client shows them all.
CLIENT_PAGE_DEALS = 20
TIMELINE_LENGTH = 30
# An agency can have tens of thousands of clients: a client select offers the chosen one and
# this many matches of what was typed (a trigram index serves the search on PostgreSQL).
CLIENT_PICKER_LIMIT = 20
# Won and lost deals are decided; every other stage is still open.
CLOSED_STAGES = (DealStage.WON, DealStage.LOST)


# --- clients -----------------------------------------------------------------------------


def client_list(*, agency: Agency, search: str = "", currency: str = "") -> QuerySet[Client]:
    """Clients with `contact_count` and `open_deal_count`, counted by correlated subqueries so
    that a page costs the same at 10 or 10,000 clients."""
    clients = Client.objects.filter(agency=agency).annotate(
        contact_count=count_subquery(Contact.objects.filter(client=OuterRef("pk"))),
        open_deal_count=count_subquery(
            Deal.objects.filter(client=OuterRef("pk")).exclude(stage__in=CLOSED_STAGES)
        ),
    )
    if search:
        # EXISTS rather than a join: a client with several matching contacts stays one row.
        matching_contacts = Contact.objects.filter(client=OuterRef("pk")).filter(
            Q(name__icontains=search) | Q(email__icontains=search)
        )
        clients = clients.filter(
            Q(name__icontains=search)
            | Q(billing_email__icontains=search)
            | Exists(matching_contacts)
        )
    if currency:
        clients = clients.filter(currency=currency)
    return clients


def client_matches(
    *, agency: Agency, search: str = "", selected_id: Any = None, limit: int = CLIENT_PICKER_LIMIT
) -> list[Client]:
    """The chosen client (when it is the agency's) then up to `limit` others whose name
    contains `search`, by name: what a picker offers (two queries at most)."""
    chosen = None
    if str(selected_id or "").isascii() and str(selected_id or "").isdigit():
        chosen = (
            Client.objects.filter(agency=agency, pk=int(selected_id))
            .only("id", "name", "currency")
            .first()
        )
    matches = Client.objects.filter(agency=agency).only("id", "name", "currency")
    search = search.strip()
    if search:
        matches = matches.filter(name__icontains=search)
    if chosen is not None:
        matches = matches.exclude(pk=chosen.pk)
    found = list(matches.order_by("name", "id")[:limit])
    return [chosen, *found] if chosen is not None else found


def client_exists(*, agency: Agency) -> bool:
    return Client.objects.filter(agency=agency).exists()


@dataclass(frozen=True)
class ClientListPage:
    page: Page[Client]
    currencies: list[str]


def client_list_page(
    *,
    agency: Agency,
    search: str = "",
    currency: str = "",
    sort: str = "",
    has_overdue: bool = False,
    after: str | None = None,
    before: str | None = None,
) -> ClientListPage:
    """One page of the client list with what each client owes (`sort` "outstanding" or
    "overdue": most first; `has_overdue`: only clients with an invoice past due) and the
    currencies the filter offers (three queries: whether the stored overdue amounts are of
    today, the page, the currencies)."""
    clients = client_finance().clients_with_amounts_owed(
        agency=agency,
        clients=client_list(agency=agency, search=search, currency=currency),
        today=clock.agency_today(agency),
    )
    if has_overdue:
        clients = clients.filter(GreaterThan(F("overdue_minor"), 0))
    page = keyset_page(
        clients,
        ordering=OWED_ORDERINGS.get(sort, CLIENT_ORDERING),
        after=after,
        before=before,
    )
    currencies = (
        Client.objects.filter(agency=agency)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )
    return ClientListPage(page=page, currencies=list(currencies))


def client_get(*, agency: Agency, pk: int) -> Client:
    return Client.objects.get(agency=agency, pk=pk)


def contact_get(*, agency: Agency, pk: int) -> Contact:
    return Contact.objects.select_related("client").get(agency=agency, pk=pk)


def client_contacts(*, client: Client) -> QuerySet[Contact]:
    return Contact.objects.filter(agency_id=client.agency_id, client=client)


def client_timeline(
    *, agency: Agency, client: Client, limit: int = TIMELINE_LENGTH
) -> list[AuditEvent]:
    """The client's latest events, each given `client` rather than a joined copy of it."""
    events = list(
        AuditEvent.objects.filter(agency=agency, client=client).select_related("actor")[:limit]
    )
    for event in events:
        event.client = client
    return events


def record_timeline(
    *, agency: Agency, subject_type: str, subject_id: int, limit: int = TIMELINE_LENGTH
) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        agency=agency, subject_type=subject_type, subject_id=subject_id
    ).select_related("actor", "client")[:limit]


@dataclass(frozen=True)
class ClientOverview:
    client: Client
    outstanding_balance: Decimal
    contacts: list[Contact]
    deals: list[DealRow]
    deal_count: int
    documents: RecordDocumentsSummary
    timeline: list[TimelineEntry]
    # The cards apps above crm add (`crm.finance.record_panel_register`).
    panels: list[PanelContent]


def client_overview(*, agency: Agency, pk: int) -> ClientOverview:
    """Everything the client page shows, in a constant number of queries."""
    client = client_get(agency=agency, pk=pk)
    deals, all_deals = first_rows_totalled(
        deal_list(agency=agency, client_id=client.pk), CLIENT_PAGE_DEALS
    )
    finance = client_finance()
    return ClientOverview(
        client=client,
        outstanding_balance=finance.client_balance(agency=agency, client=client),
        contacts=list(client_contacts(client=client)),
        deals=deal_rows(deals=deals),
        deal_count=all_deals["count"],
        documents=finance.client_documents(agency=agency, client=client),
        timeline=timeline_entries(client_timeline(agency=agency, client=client)),
        panels=client_panels(agency=agency, client=client),
    )


# --- deals -------------------------------------------------------------------------------


def deal_value_with(*, deal: Deal, lines: Sequence[PriceableLine]) -> LinesValue:
    """What `deal` is worth with `lines` (its own, or the editor's rows while typing)."""
    return lines_value(
        lines,
        currency=deal.client.currency,
        rounding=deal.agency.tax_rounding,
        tax_exempt=deal.client.tax_exempt,
    )


def deal_value(*, deal: Deal) -> LinesValue:
    """A deal's value in the client's currency; uses prefetched lines when there are some."""
    return deal_value_with(deal=deal, lines=list(deal.lines.all()))


def deals_priced_from_lines(*, agency: Agency, deals: list[Deal]) -> list[tuple[Deal, LinesValue]]:
    """Deals with values priced from their lines (one query loads all the lines): for outputs
    that show each line's figures, such as the API's; lists read `Deal.value` instead."""
    prefetch_related_objects(deals, DEAL_LINES)
    for deal in deals:
        deal.agency = agency
    return [(deal, deal_value(deal=deal)) for deal in deals]


def deal_totals(*, deal: Deal) -> DocumentTotals | None:
    """A deal's value: its lines through the money engine, in the client's currency (None
    when they cannot be priced)."""
    return deal_value(deal=deal).totals


def deal_list(
    *,
    agency: Agency,
    search: str = "",
    stage: str = "",
    client_id: int | None = None,
    owner_id: int | None = None,
) -> QuerySet[Deal]:
    """The agency's deals with their client and owner; each carries its stored value
    (`Deal.value`), so lines are loaded only by the pages that show them."""
    deals = Deal.objects.filter(agency=agency).select_related("client", "owner")
    if search:
        deals = deals.filter(Q(title__icontains=search) | Q(client__name__icontains=search))
    if stage:
        deals = deals.filter(stage=stage)
    if client_id:
        deals = deals.filter(client_id=client_id)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    return deals


@dataclass(frozen=True)
class DealRow:
    deal: Deal
    value: DealValue


def deal_rows(*, deals: Iterable[Deal]) -> list[DealRow]:
    """Deals (from `deal_list`) with their stored values: no lines, no pricing."""
    return [DealRow(deal=deal, value=deal.value) for deal in deals]


def agency_members(*, agency: Agency) -> QuerySet[User]:
    """The people who can own a deal: users with a membership in the agency."""
    return User.objects.filter(membership__agency=agency).order_by("full_name", "email")


@dataclass(frozen=True)
class DealListPage:
    page: Page[Deal]
    rows: list[DealRow]
    owners: list[User]


def deal_list_page(
    *,
    agency: Agency,
    search: str = "",
    stage: str = "",
    client_id: int | None = None,
    owner_id: int | None = None,
    sort: str = "",
    has_overdue: bool = False,
    after: str | None = None,
    before: str | None = None,
) -> DealListPage:
    """One page of deals with their values and what their invoices owe (sorted and filtered
    as the client list), and the owners the filter offers (five queries, one whether the
    stored overdue amounts are of today)."""
    deals = client_finance().deals_with_amounts_owed(
        agency=agency,
        deals=deal_list(
            agency=agency, search=search, stage=stage, client_id=client_id, owner_id=owner_id
        ),
        today=clock.agency_today(agency),
    )
    if has_overdue:
        deals = deals.filter(GreaterThan(F("overdue_minor"), 0))
    page = keyset_page(
        deals,
        ordering=OWED_ORDERINGS.get(sort, DEAL_ORDERING),
        after=after,
        before=before,
    )
    return DealListPage(
        page=page,
        rows=deal_rows(deals=page.items),
        owners=list(agency_members(agency=agency)),
    )


def deal_record_get(*, agency: Agency, pk: int) -> Deal:
    """The deal alone, with its client and agency: for pages that change it, not its lines."""
    return Deal.objects.select_related("client", "agency").get(agency=agency, pk=pk)


def deal_get(*, agency: Agency, pk: int) -> Deal:
    return (
        Deal.objects.select_related("client", "owner", "agency")
        .prefetch_related(DEAL_LINES)
        .get(agency=agency, pk=pk)
    )


@dataclass(frozen=True)
class DealOverview:
    deal: Deal
    value: LinesValue
    documents: RecordDocumentsSummary
    timeline: list[TimelineEntry]
    panels: list[PanelContent]

    @property
    def priced_lines(self) -> list[PricedDealLine]:
        return [
            PricedDealLine(line=line, result=result)
            for line, result in self.value.with_results(self.deal.lines.all())
        ]


@dataclass(frozen=True)
class PricedDealLine:
    line: DealLine
    result: LineResult | None

    @property
    def quantity(self) -> str:
        return plain_decimal(self.line.quantity)

    @property
    def discount_percent(self) -> str:
        return plain_decimal(self.line.discount_value)


def deal_overview(*, agency: Agency, pk: int) -> DealOverview:
    deal = deal_get(agency=agency, pk=pk)
    return DealOverview(
        deal=deal,
        value=deal_value(deal=deal),
        documents=client_finance().deal_documents(agency=agency, deal=deal),
        timeline=timeline_entries(
            record_timeline(
                agency=agency,
                subject_type=Deal._meta.label_lower,
                subject_id=deal.pk,
            )
        ),
        panels=deal_panels(agency=agency, deal=deal),
    )
