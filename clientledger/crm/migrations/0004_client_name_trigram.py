"""Client names are searched anywhere in the name (lists, the client pickers): a trigram index
on PostgreSQL serves `name__icontains`, which Django writes as UPPER(name::text) LIKE."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from clientledger.core.postgres_operations import RunSQLOnPostgres


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_deal_stored_value"),
    ]

    operations = [
        # CreateExtension itself does nothing on other databases.
        TrigramExtension(),
        RunSQLOnPostgres(
            "CREATE INDEX IF NOT EXISTS crm_client_name_trgm "
            "ON crm_client USING gin (UPPER(name::text) gin_trgm_ops)",
            "DROP INDEX IF EXISTS crm_client_name_trgm",
        ),
    ]
