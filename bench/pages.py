"""Issue 14's list pages at scale, on PostgreSQL: `python -m bench.pages seed` loads one agency
(BENCH_PAGES_CLIENTS clients, as many deals with two lines each, BENCH_PAGES_INVOICES invoices)
into DATABASE_URL; `python -m bench.pages measure <agency id>` then times the pages that grew
with it and prints the plans of the searches and of the overdue list.

`measure` only requests URLs, so the same loaded database can be measured by an older
checkout (its migrations applied) for before/after figures in one run.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402

REPEAT = 5
PAGES = (
    "/",
    "/clients/pipeline/",
    "/clients/deals/",
    "/billing/invoices/",
    "/billing/estimates/",
    "/billing/invoices/new/",
    "/clients/deals/new/",
    "/billing/invoices/?q=INV-0004711",
    "/billing/invoices/?q=client 1234",
    "/billing/invoices/?overdue=on",
)


def median_ms(action: object) -> float:
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def seed() -> None:
    from clientledger.accounts.roles import Role
    from clientledger.billing.models import Invoice
    from clientledger.catalog.models import TaxRate
    from clientledger.crm.models import Client, Deal, DealLine
    from tests.factories import MembershipFactory

    clients_count = int(os.environ.get("BENCH_PAGES_CLIENTS", "20000"))
    invoices_count = int(os.environ.get("BENCH_PAGES_INVOICES", "100000"))
    started = time.perf_counter()
    member = MembershipFactory(role=Role.OWNER, agency__timezone="UTC")
    member.user.set_password("bench-pages")
    member.user.save()
    agency = member.agency
    vat = TaxRate.objects.create(agency=agency, name="VAT", percent=Decimal(19))
    clients = Client.objects.bulk_create(
        (
            Client(agency=agency, name=f"Client {n:05d}", currency="USD")
            for n in range(clients_count)
        ),
        batch_size=2000,
    )
    stages = ("lead", "qualified", "proposal", "won", "lost")
    deals = Deal.objects.bulk_create(
        (
            Deal(agency=agency, client=client, title=f"Deal {n}", stage=stages[n % 5])
            for n, client in enumerate(clients)
        ),
        batch_size=2000,
    )
    DealLine.objects.bulk_create(
        (
            DealLine(
                agency=agency,
                deal=deal,
                position=position,
                description="Work",
                quantity=Decimal(3 + position),
                unit_price=Decimal("120.00"),
                tax_1=vat if position else None,
            )
            for deal in deals
            for position in range(2)
        ),
        batch_size=5000,
    )
    today = dt.date.today()
    Invoice.objects.bulk_create(
        (
            Invoice(
                agency=agency,
                client=clients[n % clients_count],
                number=f"INV-{n:07d}",
                currency="USD",
                status="open" if n % 10 == 0 else "paid",
                issue_date=today - dt.timedelta(days=n % 1500),
                due_date=today - dt.timedelta(days=n % 1500) + dt.timedelta(days=30),
                total_minor=10_000,
            )
            for n in range(invoices_count)
        ),
        batch_size=5000,
    )
    took = time.perf_counter() - started
    print(f"seeded agency {agency.pk} (owner {member.user.email}) in {took:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def reprice(agency_id: int) -> None:
    """The stored deal values, all priced again (what a change of the shared rate costs)."""
    from clientledger.crm.deal_values import deals_reprice
    from clientledger.crm.models import Deal

    started = time.perf_counter()
    count = deals_reprice(Deal.objects.filter(agency_id=agency_id, lines__isnull=False))
    print(f"re-priced {count} deals in {time.perf_counter() - started:.1f} s")


def measure(agency_id: int) -> None:
    from clientledger.accounts.models import Membership

    member = Membership.objects.filter(agency_id=agency_id).select_related("user").first()
    assert member is not None
    http = HttpClient()
    http.force_login(member.user)
    for url in PAGES:
        response = http.get(url, secure=True)
        size_kb = len(response.content) / 1024
        took = median_ms(lambda u=url: http.get(u, secure=True))
        print(f"{url:45s} {response.status_code} {size_kb:8.0f} kB {took:8.0f} ms")
    explain(agency_id)


def explain(agency_id: int) -> None:
    today = dt.date.today()
    statements: dict[str, tuple[str, list[object]]] = {
        "number prefix": (
            "SELECT id FROM billing_invoice WHERE agency_id = %s"
            " AND UPPER(number::text) LIKE UPPER('INV-00047%%') LIMIT 26",
            [agency_id],
        ),
        "client name": (
            "SELECT id FROM crm_client WHERE UPPER(name::text) LIKE UPPER('%%nt 1234%%')",
            [],
        ),
        "overdue": (
            "SELECT id FROM billing_invoice WHERE agency_id = %s AND status = 'open'"
            " AND due_date < %s ORDER BY due_date, id LIMIT 26",
            [agency_id, today],
        ),
    }
    with connection.cursor() as cursor:
        for name, (sql, params) in statements.items():
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)  # type: ignore[arg-type]
            print(f"-- {name}")
            for (line,) in cursor.fetchall():
                print(f"   {line}")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "seed":
        seed()
    elif command == "measure":
        measure(int(sys.argv[2]))
    elif command == "reprice":
        reprice(int(sys.argv[2]))
    else:
        print(__doc__)
