"""Recurring schedules (retainers): list, create from a won deal or from lines, edit, pause,
resume, end, the next invoices they make and the invoices they made; the last billing runs.

`routes` holds the endpoints, `inputs` and `outputs` the schemas."""

from clientledger.api.schedules.routes import billing_runs_router, router

__all__ = ["billing_runs_router", "router"]
