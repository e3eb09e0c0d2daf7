"""The PostgreSQL database of `--scale` and `--load`: `bench_scale_<invoices>` on the server
of DATABASE_URL (else BENCH_DATABASE_URL), loaded once by bench/loading.py and kept, so that
the load test and a second run start at once; each run migrates it first (new indexes and
the like apply) and `--fresh` loads it anew. Size: BENCH_SCALE_INVOICES (default 500,000)."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

if TYPE_CHECKING:
    from clientledger.accounts.models import Agency, User

DEFAULT_SERVER_URL = "postgres://root@127.0.0.1:5432/postgres"
SCALE_AGENCY_NAME = "Scale bench agency"
# Fixed, so that the served app of `--load` derives the same client-link tokens as the load.
BENCH_SECRET_KEY = "bench-secret-key-for-the-scale-database-only-never-deployed"


@dataclass(frozen=True)
class ScaleDatabase:
    url: str
    agency: Agency
    owner: User


def scale_invoices() -> int:
    return int(os.environ.get("BENCH_SCALE_INVOICES", "500000"))


def scale_main(argv: list[str]) -> int:
    """`python -m bench --scale [--fresh]` or `python -m bench --load [--fresh]`."""
    server_url = os.environ.get("DATABASE_URL") or os.environ.get(
        "BENCH_DATABASE_URL", DEFAULT_SERVER_URL
    )
    if not server_url.startswith("postgres"):
        print("--scale and --load run on PostgreSQL: set DATABASE_URL or BENCH_DATABASE_URL")
        return 1
    database = scale_database(server_url, scale_invoices(), fresh="--fresh" in argv)
    if "--load" in argv:
        from bench.load import load_main

        return load_main(database)
    from bench.scale import scale_scenarios

    return scale_scenarios(database)


def scale_database(server_url: str, invoices: int, *, fresh: bool) -> ScaleDatabase:
    """Create (or reuse) the database, set Django up on it, migrate it, load it if empty."""
    name = f"bench_scale_{invoices}"
    with psycopg.connect(server_url, autocommit=True) as server:
        exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            server.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if fresh or not exists:
            server.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    os.environ["DATABASE_URL"] = url
    os.environ["SECRET_KEY"] = BENCH_SECRET_KEY
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CLIENTLEDGER_TESTING", "true")
    os.environ.setdefault("CLIENTLEDGER_VAR_DIR", tempfile.mkdtemp(prefix="clientledger-bench-"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    migrations = _applied_migrations(connection)
    call_command("migrate", interactive=False, verbosity=0)
    if exists and not fresh and _applied_migrations(connection) != migrations:
        # A migration of the kept database may rewrite whole tables (a new column filled):
        # vacuumed and analyzed now, as autovacuum would before long, or the planner
        # measures plans over dead rows and stale statistics that no deployment keeps.
        print("migrated the kept database: VACUUM ANALYZE…")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    agency, owner = _loaded_agency(invoices)
    _overdue_days_turned()
    return ScaleDatabase(url=url, agency=agency, owner=owner)


def _overdue_days_turned() -> None:
    """Move the stored overdue amounts to the agency's today, as the runner's sweep does
    within a minute of its day turning (`overdue_days_turn`): the pages are measured as
    served, not as in that minute, when they sum overdue amounts from the open invoices."""
    from django.db import connection

    from clientledger.billing.services.rollups import overdue_days_turn
    from clientledger.core import clock

    turned = overdue_days_turn(as_of=clock.now())
    print(f"overdue amounts moved to today: {turned or 'current'}")
    if turned:
        # The turn rewrote clients' and deals' rows: vacuumed as autovacuum would soon (off on
        # some servers), or their dead rows and the name trigram index's pending entries,
        # which every search then scans, are measured as no served database keeps them.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE crm_client, crm_deal")


def _applied_migrations(connection: Any) -> int:
    """How many migrations the database has applied (0 before the first)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT count(*) FROM django_migrations")
        return int(cursor.fetchone()[0])


def _loaded_agency(invoices: int) -> tuple[Agency, User]:
    """The agency of the load and its owner; loaded now if a previous load did not finish."""
    from django.db import connection

    from bench.loading import agency_load
    from clientledger.accounts.models import Agency, Membership
    from clientledger.accounts.roles import Role
    from clientledger.billing.models import Invoice
    from tests.factories import MembershipFactory

    agency = Agency.objects.filter(name=SCALE_AGENCY_NAME).first()
    if agency is None:
        member: Membership = MembershipFactory(
            role=Role.OWNER,
            agency__name=SCALE_AGENCY_NAME,
            agency__timezone="UTC",
            user__email="owner@scale.example",
        )
        agency = member.agency
    owner = Membership.objects.get(agency=agency, role=Role.OWNER).user
    if not Invoice.objects.filter(agency=agency).exists():
        print(f"loading {invoices:,} invoices into {connection.settings_dict['NAME']}…")
        sys.stdout.flush()
        agency_load(connection, agency, invoices)
    return agency, owner
