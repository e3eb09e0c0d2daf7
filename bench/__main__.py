"""`make bench`: measured budgets (DESIGN.md section 9) for what exists so far.

Runs against a throw-away SQLite database under a temporary folder, or against
`DATABASE_URL` when set (a `bench_` test database is created and dropped there).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal


def median_ms(action: Callable[[], object], repeat: int = 15) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CLIENTLEDGER_TESTING", "true")
    os.environ.setdefault("CLIENTLEDGER_VAR_DIR", tempfile.mkdtemp(prefix="clientledger-bench-"))
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return run_scenarios(connection, CaptureQueriesContext)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run_scenarios(connection: object, capture: type) -> int:
    from clientledger.accounts.models import Agency
    from clientledger.billing.calculations import LineInput, TaxSpec, calculate_document
    from clientledger.core.pagination import keyset_page
    from clientledger.crm.models import Client, Contact
    from clientledger.crm.selectors import client_list

    print(f"database: {connection.vendor}")  # type: ignore[attr-defined]
    vat = TaxSpec(key="1", name="VAT", percent=Decimal("19"))
    lines = [LineInput(quantity=Decimal("3.5"), unit_price=Decimal("127.30"), taxes=(vat,))] * 10
    per_doc = median_ms(lambda: calculate_document(lines, "USD", rounding="line"), repeat=200)
    print(
        f"money engine: 10-line document totals, median {per_doc:.3f} ms "
        f"({1000 / per_doc:,.0f} documents/s)"
    )

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
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
