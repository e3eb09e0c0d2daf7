"""Document search matches the start of the number, case-insensitively (`number__istartswith`,
which Django writes on PostgreSQL as UPPER(number::text) LIKE 'X%'). Under a non-C collation a
plain index cannot serve LIKE: these use `text_pattern_ops`. SQLite skips them."""

from django.db import migrations

from clientledger.core.postgres_operations import RunSQLOnPostgres

TABLES = ("billing_estimate", "billing_invoice", "billing_creditnote")


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0008_sweep_partial_indexes"),
    ]

    operations = [
        RunSQLOnPostgres(
            f"CREATE INDEX IF NOT EXISTS {table}_number_prefix "
            f"ON {table} (agency_id, UPPER(number::text) text_pattern_ops)",
            f"DROP INDEX IF EXISTS {table}_number_prefix",
        )
        for table in TABLES
    ]
