"""What every app shares: money, time, audit, outbox, tenancy, view helpers; imports no app."""
