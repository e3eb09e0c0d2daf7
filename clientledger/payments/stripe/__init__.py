"""Everything that talks to Stripe: the client and keys, webhook verification and the event
inbox, sync of payments, refunds and disputes, account settings, amount conversion."""
