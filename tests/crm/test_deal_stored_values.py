"""Each deal's stored value equals what the money engine makes of its lines: after the lines
change, after a tax rate, the client's exemption, the deal's client or the agency's rounding
change, and after the migration that priced existing deals; the pipeline sums it in SQL.
Re-pricing many deals costs the same queries for 2 deals or 12, and prices them in batches."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientledger.accounts.models import Agency, Membership
from clientledger.accounts.services import agency_update
from clientledger.catalog.models import TaxRate
from clientledger.catalog.services import tax_rate_update
from clientledger.core import bulk
from clientledger.core.money import to_minor
from clientledger.crm import deal_values
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.crm.selectors import deal_get, deal_value
from clientledger.crm.selectors_pipeline import pipeline_board
from clientledger.crm.services import client_update, deal_lines_replace, deal_update
from clientledger.lines.data import LineData
from tests.factories import ClientFactory, DealFactory, DealLineFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

price_migration = __import__(
    "clientledger.crm.migrations.0003_deal_stored_value", fromlist=["price_existing_deals"]
)


def engine_minor(deal: Deal) -> tuple[int | None, int | None, int | None, str]:
    """What the money engine makes of the deal's stored lines now, in minor units."""
    fresh = deal_get(agency=deal.agency, pk=deal.pk)
    value = deal_value(deal=fresh)
    if value.totals is None or value.monthly_recurring is None:
        return None, None, None, value.pricing_problem
    currency = value.currency
    return (
        to_minor(value.totals.subtotal, currency),
        to_minor(value.totals.total, currency),
        to_minor(value.monthly_recurring, currency),
        "",
    )


def stored_minor(deal: Deal) -> tuple[int | None, int | None, int | None, str]:
    row = Deal.objects.get(pk=deal.pk)
    return row.subtotal_minor, row.total_minor, row.monthly_recurring_minor, row.pricing_problem


line_strategy: st.SearchStrategy[dict[str, object]] = st.builds(
    dict,
    quantity=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(40), places=2),
    unit_price=st.decimals(min_value=Decimal(1), max_value=Decimal(5000), places=2),
    discount=st.sampled_from([("", Decimal(0)), ("percent", Decimal("12.5")), ("amount", "0.5")]),
    taxed=st.booleans(),
    recurrence=st.sampled_from(["one_off", "monthly", "yearly"]),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(line_strategy, max_size=4), percent=st.sampled_from(["7", "19", "21.5"]))
def test_the_stored_value_follows_line_edits_and_rate_changes(
    deal: Deal, vat: TaxRate, rows: list[dict[str, object]], percent: str
) -> None:
    lines = [
        LineData(
            description=f"Line {index}",
            quantity=row["quantity"],  # type: ignore[arg-type]
            unit_price=row["unit_price"],  # type: ignore[arg-type]
            discount_kind=row["discount"][0],  # type: ignore[index]
            discount_value=Decimal(row["discount"][1]),  # type: ignore[index]
            taxes=[vat] if row["taxed"] else [],
            recurrence=row["recurrence"],  # type: ignore[arg-type]
        )
        for index, row in enumerate(rows)
    ]
    deal_lines_replace(deal=deal, actor=None, lines=lines)
    assert stored_minor(deal) == engine_minor(deal)

    tax_rate_update(tax_rate=TaxRate.objects.get(pk=vat.pk), actor=None, percent=Decimal(percent))
    assert stored_minor(deal) == engine_minor(deal)


def test_a_rate_change_reprices_only_the_deals_that_use_it(
    agency: Agency, deal: Deal, vat: TaxRate
) -> None:
    DealLineFactory(deal=deal, tax_1=vat)
    untaxed = DealFactory(client=deal.client)
    DealLineFactory(deal=untaxed)
    before = stored_minor(untaxed)

    tax_rate_update(tax_rate=vat, actor=None, percent=Decimal("25"))

    assert stored_minor(deal)[1] == 125000  # 10 x 100.00 plus 25 %
    assert stored_minor(untaxed) == before


def deals_using(rate: TaxRate, count: int, *, client: Client, second: TaxRate) -> list[Deal]:
    """`count` deals of two lines each: one taxed with `rate`, one with `rate` and `second`."""
    deals = [DealFactory(client=client) for _ in range(count)]
    for index, deal in enumerate(deals):
        DealLineFactory(deal=deal, tax_1=rate, unit_price=Decimal(index + 1) / 3)
        DealLineFactory(deal=deal, tax_1=rate, tax_2=second, recurrence="monthly")
    return deals


def test_repricing_takes_the_same_queries_for_2_deals_or_12(agency: Agency, acme: Client) -> None:
    exempt = ClientFactory(agency=agency, currency="USD", tax_exempt=True)
    state_tax = TaxRateFactory(agency=agency, name="State", percent=Decimal("2.5"))
    query_counts: list[int] = []
    for count in (2, 12):
        rate = TaxRateFactory(agency=agency, name=f"Rate {count}", percent=Decimal("7"))
        deals = deals_using(rate, count - 1, client=acme, second=state_tax)
        deals += deals_using(rate, 1, client=exempt, second=state_tax)
        with CaptureQueriesContext(connection) as queries:
            tax_rate_update(tax_rate=rate, actor=None, percent=Decimal("21.5"))
        query_counts.append(len(queries))
        assert [stored_minor(deal) for deal in deals] == [engine_minor(deal) for deal in deals]

    assert query_counts[0] == query_counts[1]


def test_deals_past_one_batch_are_all_repriced(
    agency: Agency,
    owner: Membership,
    acme: Client,
    vat: TaxRate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deal_values, "REPRICE_BATCH", 3)
    monkeypatch.setattr(bulk, "BATCH_SIZE", 2)
    monkeypatch.setattr(bulk, "COPY_BATCH_SIZE", 2)
    state_tax = TaxRateFactory(agency=agency, name="State", percent=Decimal("2.5"))
    deals = deals_using(vat, 7, client=acme, second=state_tax)

    new_rounding = "document" if agency.tax_rounding == "line" else "line"
    agency_update(agency=agency, actor=owner.user, tax_rounding=new_rounding)
    tax_rate_update(tax_rate=vat, actor=None, percent=Decimal("3"))

    assert [stored_minor(deal) for deal in deals] == [engine_minor(deal) for deal in deals]
    assert len({stored_minor(deal) for deal in deals}) == 7


def test_a_deal_whose_value_does_not_move_is_not_rewritten(agency: Agency, vat: TaxRate) -> None:
    exempt = ClientFactory(agency=agency, currency="USD", tax_exempt=True)
    deal = DealFactory(client=exempt)
    DealLineFactory(deal=deal, tax_1=vat)

    with CaptureQueriesContext(connection) as queries:
        tax_rate_update(tax_rate=vat, actor=None, percent=Decimal("25"))

    deal_writes = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "crm_deal"')]
    assert deal_writes == []
    assert stored_minor(deal) == engine_minor(deal) == (100000, 100000, 0, "")


def test_the_clients_exemption_and_the_agencys_rounding_reprice_its_deals(
    agency: Agency, owner: Membership, deal: Deal, vat: TaxRate
) -> None:
    for _ in range(3):
        DealLineFactory(deal=deal, tax_1=vat, quantity=Decimal(1), unit_price=Decimal("0.13"))
    client_update(client=deal.client, actor=None, tax_exempt=True)
    assert stored_minor(deal) == engine_minor(deal) == (39, 39, 0, "")

    client_update(client=deal.client, actor=None, tax_exempt=False)
    line_rounded = stored_minor(deal)
    new_rounding = "document" if agency.tax_rounding == "line" else "line"
    agency_update(agency=agency, actor=owner.user, tax_rounding=new_rounding)

    assert stored_minor(deal) == engine_minor(deal)
    assert stored_minor(deal) != line_rounded  # 3 x 0.0247 in tax: 0.06 per line, 0.07 per document


def test_moving_a_deal_to_an_exempt_client_reprices_it(
    agency: Agency, deal: Deal, vat: TaxRate
) -> None:
    DealLineFactory(deal=deal, tax_1=vat)
    exempt = ClientFactory(agency=agency, currency=deal.client.currency, tax_exempt=True)

    deal_update(deal=deal, actor=None, client=exempt)

    assert stored_minor(deal) == engine_minor(deal) == (100000, 100000, 0, "")
    assert deal.total_minor == 100000


def test_the_migration_prices_deals_stored_before_it(deal: Deal, vat: TaxRate) -> None:
    DealLineFactory(deal=deal, tax_1=vat, recurrence="monthly")
    Deal.objects.filter(pk=deal.pk).update(subtotal_minor=0, total_minor=0)

    price_migration.price_existing_deals(apps, None)

    assert stored_minor(deal) == engine_minor(deal) == (100000, 119000, 100000, "")


def test_the_pipeline_sums_stored_values_per_stage_and_currency(
    agency: Agency, acme: Client, vat: TaxRate, owner_client: HttpClient
) -> None:
    euro_client = ClientFactory(agency=agency, currency="EUR")
    for client, stage in ((acme, DealStage.LEAD), (acme, DealStage.LEAD), (euro_client, "lead")):
        DealLineFactory(deal=DealFactory(client=client, stage=stage), tax_1=vat)
    DealLineFactory(deal=DealFactory(client=acme, stage=DealStage.WON))

    columns = {column.stage: column for column in pipeline_board(agency=agency, card_limit=1)}

    assert columns["lead"].totals == {"EUR": Decimal("1000.00"), "USD": Decimal("2000.00")}
    assert columns["lead"].deal_count == 3
    assert len(columns["lead"].deals) == 1
    assert columns["won"].totals == {"USD": Decimal("1000.00")}
    assert columns["lost"].totals == {} and columns["lost"].deal_count == 0
    page = owner_client.get(reverse("crm:deal_list")).content.decode()
    assert page.count("$1,000.00") == 3
