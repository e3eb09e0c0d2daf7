"""The dashboard's figures, one module per figure; every figure is per currency and every
sum is computed in SQL (`common` holds the rules they share: the as-of moment, the balance
of an invoice as of a date, the aging buckets)."""
