"""`make bench`: measured budgets (DESIGN.md section 9) for what exists so far.

Runs against a throw-away SQLite database under a temporary folder, or against
`DATABASE_URL` when set (a `bench_` database of this process is created and dropped there).
`make bench` runs it on SQLite, then on the PostgreSQL of BENCH_DATABASE_URL when it answers.
Each scenario runs ANALYZE after its bulk loads, as a served database's autovacuum would: on
fresh tables the planner's guesses measure a plan no deployment runs.

`--scale` (`make bench-scale`) measures the pages at 500,000 invoices (bench/scale.py) and
`--load` (`make bench-load`) drives the served app with concurrent connections (bench/load.py).
`BENCH_ONLY=billing_run`, `BENCH_ONLY=dashboard` or `BENCH_ONLY=writes` runs that scenario
alone.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal

from bench.billing_run import billing_run_scenario
from bench.dashboard import dashboard_scenario
from bench.timing import median_ms
from bench.writes import invoice_issuing, payment_recording, writes_scenario

PDF_BUDGET_MS = 20
PDF_FAIL_MS = 40
# The scenarios BENCH_ONLY can name.
SCENARIOS_ALONE: dict[str, Callable[[object], int]] = {
    "billing_run": billing_run_scenario,
    "dashboard": dashboard_scenario,
    "writes": writes_scenario,
}


def main() -> int:
    if "--scale" in sys.argv or "--load" in sys.argv:
        from bench.scale_database import scale_main

        return scale_main(sys.argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CLIENTLEDGER_TESTING", "true")
    os.environ.setdefault("CLIENTLEDGER_VAR_DIR", tempfile.mkdtemp(prefix="clientledger-bench-"))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    if connection.vendor == "sqlite":
        # A file, as deployed (WAL): an in-memory database would also count in the process's
        # memory, and write faster than any deployment does.
        bench_file = os.path.join(os.environ["CLIENTLEDGER_VAR_DIR"], "bench.sqlite3")
        connection.settings_dict["TEST"]["NAME"] = bench_file
    else:
        # Its own name: two benches at once on one server must not drop each other's.
        connection.settings_dict["TEST"]["NAME"] = (
            f"bench_{connection.settings_dict['NAME']}_{os.getpid()}"
        )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return run_scenarios(connection, CaptureQueriesContext)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run_scenarios(connection: object, capture: type) -> int:
    print(f"database: {connection.vendor}")  # type: ignore[attr-defined]
    only = os.environ.get("BENCH_ONLY")
    if only is not None:
        # One scenario, by name, when working on it: the others take minutes.
        return 1 if SCENARIOS_ALONE[only](connection) else 0
    money_engine()
    failures = client_list_queries(connection, capture)
    failures += pdf_render()
    failures += invoice_list_queries(connection, capture)
    payment_recording(connection)
    invoice_issuing(connection)
    failures += billing_run_scenario(connection)
    failures += reminder_sweep(connection, capture)
    failures += dashboard_scenario(connection)
    return 1 if failures else 0


def analyze(connection: object) -> None:
    """Fresh statistics after a bulk load (ANALYZE exists on both databases)."""
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("ANALYZE")


def money_engine() -> None:
    from clientledger.lines.calculations.document_totals import calculate_document
    from clientledger.lines.calculations.values import LineInput, TaxSpec

    vat = TaxSpec(key="1", name="VAT", percent=Decimal("19"))
    lines = [LineInput(quantity=Decimal("3.5"), unit_price=Decimal("127.30"), taxes=(vat,))] * 10
    per_doc = median_ms(lambda: calculate_document(lines, "USD", rounding="line"), repeat=200)
    print(
        f"money engine: 10-line document totals, median {per_doc:.3f} ms "
        f"({1000 / per_doc:,.0f} documents/s)"
    )


def client_list_queries(connection: object, capture: type) -> int:
    from clientledger.accounts.models import Agency
    from clientledger.core.pagination import keyset_page
    from clientledger.crm.models import Client, Contact
    from clientledger.crm.selectors import client_list

    failures = 0
    agency = Agency.objects.create(name="Bench agency")
    counts: dict[int, int] = {}
    for size in (10, 1_000, 10_000):
        existing = Client.objects.filter(agency=agency).count()
        created = Client.objects.bulk_create(
            Client(agency=agency, name=f"Client {n:06d}", currency="USD")
            for n in range(existing, size)
        )
        Contact.objects.bulk_create(
            Contact(agency=agency, client=c, name="Contact", email="c@example.com") for c in created
        )
        analyze(connection)

        def first_page() -> list[Client]:
            return list(keyset_page(client_list(agency=agency), ordering=("name", "id")))

        with capture(connection) as queries:
            first_page()
        counts[size] = len(queries.captured_queries)
        print(
            f"client list, first page of {size:>6,} clients: "
            f"{counts[size]} queries, median {median_ms(first_page):.1f} ms"
        )
    if len(set(counts.values())) != 1:
        print(f"FAIL: client list query count grows with rows: {counts}")
        failures += 1
    return failures


def pdf_render() -> int:
    """The issue's budget is 20 ms; only twice that fails, so a noisy machine is no failure."""
    from clientledger.billing.documents.render import render_document_pdf
    from clientledger.billing.documents.sample import sample_document

    documents = iter(range(10_000))

    def render_new_invoice() -> bytes:
        # Every invoice differs (its number): typst's memo of an identical document would
        # otherwise measure a replay, not a render.
        document = sample_document(10)
        document["number"] = f"INV-2026-{next(documents):05d}"
        return render_document_pdf(document)

    # The first render loads fonts and fills the compiler's caches: the runner pays it once.
    render_new_invoice()
    per_pdf = median_ms(render_new_invoice, repeat=30)
    verdict = "within budget" if per_pdf <= PDF_BUDGET_MS else "over budget"
    print(
        f"PDF render: 10-line invoice, median {per_pdf:.1f} ms "
        f"({verdict}: {PDF_BUDGET_MS} ms; {1000 / per_pdf:,.0f} PDFs/s on one core)"
    )
    if per_pdf > PDF_FAIL_MS:
        print(f"FAIL: PDF render median {per_pdf:.1f} ms is above {PDF_FAIL_MS} ms")
        return 1
    return 0


def invoice_list_queries(connection: object, capture: type) -> int:
    """The staff invoice list (first page, its filter choices) at 10 and 5,000 invoices."""
    from clientledger.accounts.models import Agency
    from clientledger.billing.models import Invoice, InvoiceStatus
    from clientledger.billing.selectors import InvoiceFilters, document_list_page, invoice_list
    from clientledger.crm.models import Client, Deal

    agency = Agency.objects.create(name="Invoice bench agency")
    clients = Client.objects.bulk_create(
        Client(agency=agency, name=f"Client {n:03d}", currency="USD") for n in range(50)
    )
    deals = Deal.objects.bulk_create(
        Deal(agency=agency, client=client, title=f"Retainer {client.name}") for client in clients
    )
    first_day = dt.date(2026, 1, 1)
    statuses = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.OPEN, InvoiceStatus.VOID)

    def invoice(n: int) -> Invoice:
        issued = first_day + dt.timedelta(days=n % 330)
        return Invoice(
            agency=agency,
            client=clients[n % len(clients)],
            deal=deals[n % len(deals)],
            currency="USD",
            number=f"INV-2026-{n + 1:05d}",
            status=statuses[n % len(statuses)],
            issue_date=issued,
            due_date=issued + dt.timedelta(days=30),
            subtotal_minor=100_000,
            tax_total_minor=19_000,
            total_minor=119_000,
        )

    def first_page() -> list[tuple[str, str]]:
        # Reading each row's client and deal as the page does: a missing join shows as N+1.
        filters = InvoiceFilters()
        rows = invoice_list(agency=agency, filters=filters)
        listing = document_list_page(agency=agency, rows=rows, filters=filters)
        return [(row.client.name, row.deal.title if row.deal else "") for row in listing.page]

    counts: dict[int, int] = {}
    for size in (10, 5_000):
        existing = Invoice.objects.filter(agency=agency).count()
        Invoice.objects.bulk_create((invoice(n) for n in range(existing, size)), batch_size=1_000)
        analyze(connection)
        with capture(connection) as queries:
            first_page()
        counts[size] = len(queries.captured_queries)
        print(
            f"invoice list, first page of {size:>6,} invoices: "
            f"{counts[size]} queries, median {median_ms(first_page):.1f} ms"
        )
    if len(set(counts.values())) != 1:
        print(f"FAIL: invoice list query count grows with rows: {counts}")
        return 1
    return 0


# Issue 12: the decision over 100,000 open invoices (the first pass, which reads them all)
# within 45 s, and each reminder of a daily pass (lock, check, log, email queued, audit) within
# 50 ms. Measured on the 2-core bench machine: 16 s and 12 ms on SQLite, 16 to 26 s and 28 to
# 36 ms on PostgreSQL (shared with other work).
REMINDER_INVOICES = int(os.environ.get("BENCH_REMINDER_INVOICES", "100000"))
REMINDER_DECISION_BUDGET_S = 45.0
REMINDER_SEND_BUDGET_MS = 50.0


def reminder_sweep(connection: object, capture: type) -> int:
    """Decide over every open invoice (a first pass, dry run: nothing sent), count queries per
    batch at two sizes, then time a real daily pass that sends the day's reminders."""
    from clientledger.accounts.models import Agency
    from clientledger.billing.models import Invoice, InvoiceStatus
    from clientledger.crm.models import Client
    from clientledger.receivables.models import ReminderPolicy
    from clientledger.receivables.services.policies import reminder_policy_default
    from clientledger.receivables.services.reminder_decisions import BATCH_SIZE
    from clientledger.receivables.services.reminders import reminders_run

    agency = Agency.objects.create(name="Reminder bench agency", timezone="UTC")
    policy = reminder_policy_default(agency=agency)
    clients = Client.objects.bulk_create(
        Client(
            agency=agency, name=f"Debtor {n:03d}", currency="USD", billing_email=f"ap{n}@x.example"
        )
        for n in range(500)
    )
    today = dt.date(2026, 12, 1)  # a Tuesday
    as_of = dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC)

    def invoice(n: int) -> Invoice:
        due = today - dt.timedelta(days=n % 400 - 30)
        return Invoice(
            agency=agency,
            client=clients[n % len(clients)],
            currency="USD",
            number=f"REM-{n + 1:06d}",
            status=InvoiceStatus.OPEN,
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            subtotal_minor=50_000,
            total_minor=50_000,
        )

    def decide() -> tuple[int, int]:
        summary = reminders_run(as_of=as_of, agency=agency, dry_run=True)
        return len(summary.planned), summary.documents_checked

    queries: dict[int, int] = {}
    batches: dict[int, int] = {}
    for size in (1_000, REMINDER_INVOICES):
        existing = Invoice.objects.filter(agency=agency).count()
        Invoice.objects.bulk_create((invoice(n) for n in range(existing, size)), batch_size=2_000)
        analyze(connection)
        with capture(connection) as captured:
            started = time.perf_counter()
            planned, checked = decide()
            seconds = time.perf_counter() - started
        queries[size] = len(captured.captured_queries)
        batches[size] = -(-checked // BATCH_SIZE)
        print(
            f"reminder decision over {size:>7,} open invoices: {planned:,} due, "
            f"{queries[size]} queries, {seconds:.1f} s"
        )
    small, large = sorted(queries)
    per_batch = (queries[large] - queries[small]) / (batches[large] - batches[small])
    print(f"reminder decision: {per_batch:g} queries per batch of {BATCH_SIZE}")
    failures = 0
    if per_batch > 2:
        print(f"FAIL: the reminder decision takes {per_batch:g} queries per batch, not 2")
        failures += 1
    if seconds > REMINDER_DECISION_BUDGET_S:
        print(f"FAIL: the first decision took {seconds:.1f} s ({REMINDER_DECISION_BUDGET_S} s)")
        failures += 1

    # Yesterday's pass is done: today's reads only the invoices with a step day today.
    ReminderPolicy.objects.filter(pk=policy.pk).update(swept_through=today - dt.timedelta(days=1))
    started = time.perf_counter()
    summary = reminders_run(as_of=as_of, agency=agency)
    seconds = time.perf_counter() - started
    per_send_ms = seconds * 1000 / max(1, summary.documents_checked)
    verdict = "within budget" if per_send_ms <= REMINDER_SEND_BUDGET_MS else "OVER BUDGET"
    print(
        f"reminder daily pass over {REMINDER_INVOICES:,} open invoices: "
        f"{summary.documents_checked:,} due today, {summary.as_counts()}, {seconds:.1f} s, "
        f"{per_send_ms:.1f} ms per reminder ({verdict}: {REMINDER_SEND_BUDGET_MS:.0f} ms)"
    )
    return failures + (per_send_ms > REMINDER_SEND_BUDGET_MS)


if __name__ == "__main__":
    sys.exit(main())
