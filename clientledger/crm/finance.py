"""What crm asks about a client's or a deal's money, answered by billing.

The client and deal pages show balances and documents, and a client with financial records
can neither be deleted nor change currency. Those records live in billing, which sits above
crm (it prices deals into documents), so crm declares here what it needs and billing registers
the answers from its `AppConfig.ready` (`client_finance_register`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured

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
