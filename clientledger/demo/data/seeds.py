"""The shapes of the demo data: one frozen record per service, client, contact and deal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clientledger.lines.choices import DiscountKind, Recurrence

US, UK = "United States", "United Kingdom"


@dataclass(frozen=True)
class ServiceSeed:
    name: str
    unit_type: str
    price: Decimal
    description: str
    taxable: bool = True


@dataclass(frozen=True)
class ContactSeed:
    name: str
    email: str
    job_title: str
    phone: str = ""
    billing: bool = False


US, UK = "United States", "United Kingdom"


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str
    region: str
    country: str = US
    line2: str = ""


@dataclass(frozen=True)
class ClientSeed:
    name: str
    billing_email: str
    address: Address
    contacts: tuple[ContactSeed, ...]
    currency: str = "USD"
    tax_id: str = ""
    tax_exempt: bool = False
    payment_terms_days: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class LineSeed:
    service: str
    quantity: Decimal
    detail: str = ""
    discount_kind: str = ""
    discount_value: Decimal = Decimal(0)
    recurrence: str = Recurrence.ONE_OFF


@dataclass(frozen=True)
class DealSeed:
    title: str
    client: str
    stage: str
    owner_role: str
    # Days from today: future for open deals, past for won and lost ones.
    close_in_days: int
    lines: tuple[LineSeed, ...]


def line_seed(
    service: str,
    quantity: str,
    detail: str = "",
    *,
    percent_off: str = "",
    amount_off: str = "",
    recurrence: str = Recurrence.ONE_OFF,
) -> LineSeed:
    kind = DiscountKind.PERCENT if percent_off else DiscountKind.AMOUNT if amount_off else ""
    return LineSeed(
        service,
        Decimal(quantity),
        detail,
        kind,
        Decimal(percent_off or amount_off or 0),
        recurrence,
    )


@dataclass(frozen=True)
class CreditNoteSeed:
    """A credit note on an open, unpaid invoice: part of its first line (`line_share` of its
    quantity) or a free adjustment line of `adjustment` US dollars, quoted in the client's
    currency."""

    reason: str
    settlement: str
    line_share: Decimal | None = None
    adjustment: Decimal | None = None


@dataclass(frozen=True)
class RetainerSeed:
    """A retainer started on the 1st `months_ago` months back, billed by the billing run since:
    from its won deal's recurring lines, or (`deal` empty) from its own `lines` for a client.
    Its oldest `paid` invoices are paid in full and the next one by `part_paid` of it."""

    name: str
    client: str
    months_ago: int
    on_period: str
    paid: int
    deal: str = ""
    part_paid: Decimal = Decimal(0)
    lines: tuple[LineSeed, ...] = ()
