"""What crm asks about a client's or a deal's money, answered by billing.

The client and deal pages show balances and documents, and a client with financial records
can neither be deleted nor change currency. Those records live in billing, which sits above
crm (it prices deals into documents), so crm declares here what it needs and billing registers
the answers from its `AppConfig.ready` (`client_finance_register`). Apps above billing add
their own cards to those pages the same way (`record_panel_register`: recurring's retainers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from clientledger.accounts.models import Agency
from clientledger.crm.models import Client, Deal


class RecordDocumentsSummary(Protocol):
    """The estimates and invoices of a client or a deal, as the crm pages show them: the
    money fields the pages read here, the rest for billing's documents card."""

    @property
    def outstanding(self) -> Decimal: ...

    @property
    def outstanding_count(self) -> int: ...

    @property
    def overdue(self) -> Decimal: ...

    @property
    def overdue_count(self) -> int: ...

    @property
    def currency(self) -> str: ...


class ClientFinance(Protocol):
    def client_balance(self, *, agency: Agency, client: Client) -> Decimal:
        """What the client owes across all its financial records."""
        ...

    def client_documents(self, *, agency: Agency, client: Client) -> RecordDocumentsSummary: ...

    def deal_documents(self, *, agency: Agency, deal: Deal) -> RecordDocumentsSummary: ...

    def client_has_records(self, *, client: Client) -> bool:
        """Whether amounts in the client's currency were recorded for it."""
        ...

    def clients_with_amounts_owed(
        self, *, agency: Agency, clients: QuerySet[Client], today: dt.date
    ) -> QuerySet[Client]:
        """The agency's `clients` annotated `outstanding_minor` and `overdue_minor` (the
        client's currency), without a query per client: the client list sorts and filters by
        them."""
        ...

    def deals_with_amounts_owed(
        self, *, agency: Agency, deals: QuerySet[Deal], today: dt.date
    ) -> QuerySet[Deal]:
        """`deals` annotated the same from the deal's invoices."""
        ...


# Billing's answers, set at start-up; registering again (a second `ready()`) replaces them.
_PROVIDERS: dict[str, ClientFinance] = {}


def client_finance_register(provider: ClientFinance) -> None:
    _PROVIDERS["finance"] = provider


def client_finance() -> ClientFinance:
    try:
        return _PROVIDERS["finance"]
    except KeyError:
        raise ImproperlyConfigured(
            "No client finance provider: billing registers it in BillingConfig.ready()."
        ) from None


# Apps above billing that keep amounts in a client's currency too (recurring schedules).
_RECORD_CHECKS: dict[str, Callable[[Client], bool]] = {}


def client_records_check_register(name: str, has_records: Callable[[Client], bool]) -> None:
    _RECORD_CHECKS[name] = has_records


def client_has_financial_records(client: Client) -> bool:
    """Whether the client has amounts in its currency anywhere: billing's records or those of
    an app that registered a check. Such a client can neither be deleted nor change currency."""
    return client_finance().client_has_records(client=client) or any(
        has_records(client) for has_records in _RECORD_CHECKS.values()
    )


# --- cards of apps above crm on the client and deal pages -----------------------------------


class RecordPanel(Protocol):
    """A card an app above crm adds to the client and deal pages (recurring schedules...):
    its template, and what it reads for one client or one deal (None: no card there)."""

    template: str

    def client_context(self, *, agency: Agency, client: Client) -> object | None: ...

    def deal_context(self, *, agency: Agency, deal: Deal) -> object | None: ...


@dataclass(frozen=True)
class PanelContent:
    """One card as a page includes it: `{% include panel.template with data=panel.data %}`."""

    template: str
    data: object


# Keyed by template: registering again (a second `ready()`) replaces the card, in place.
_PANELS: dict[str, RecordPanel] = {}


def record_panel_register(panel: RecordPanel) -> None:
    _PANELS[panel.template] = panel


def client_panels(*, agency: Agency, client: Client) -> list[PanelContent]:
    return [
        PanelContent(panel.template, data)
        for panel in _PANELS.values()
        if (data := panel.client_context(agency=agency, client=client)) is not None
    ]


def deal_panels(*, agency: Agency, deal: Deal) -> list[PanelContent]:
    return [
        PanelContent(panel.template, data)
        for panel in _PANELS.values()
        if (data := panel.deal_context(agency=agency, deal=deal)) is not None
    ]
