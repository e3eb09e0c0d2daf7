"""The demo's lines: a seed line priced in the client's currency with the taxes its country pays."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from clientledger.catalog.models import Service, TaxRate
from clientledger.crm.models import Client
from clientledger.demo.data.agency import (
    PRICE_STEP,
    QUOTE_RATES,
    VAT,
)
from clientledger.demo.data.seeds import UK, US, LineSeed
from clientledger.lines.data import LineData


def line_data(
    seed: LineSeed, service: Service, client: Client, taxes: dict[str, TaxRate]
) -> LineData:
    return LineData(
        description=f"{service.name}: {seed.detail}" if seed.detail else service.name,
        quantity=seed.quantity,
        unit_price=quoted_price(service.default_unit_price, client.currency),
        unit=service.unit_type,
        service=service,
        discount_kind=seed.discount_kind,
        discount_value=seed.discount_value,
        taxes=_line_taxes(service, client, taxes),
        recurrence=seed.recurrence,
    )


def quoted_price(usd_price: Decimal, currency: str) -> Decimal:
    steps = (usd_price * QUOTE_RATES[currency] / PRICE_STEP).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return steps * PRICE_STEP


def _line_taxes(service: Service, client: Client, taxes: dict[str, TaxRate]) -> list[TaxRate]:
    """US clients get the service's default taxes (a tax-exempt client's are waived when
    totals are computed); UK clients pay UK VAT; EU businesses are reverse-charged."""
    if client.country == UK:
        return [taxes[VAT]]
    if client.country != US:
        return []
    return service.default_taxes
