"""The role matrix: which membership role may do what. README "Roles" mirrors this table."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    FINANCE = "finance", "Finance"
    SALES = "sales", "Sales"
    VIEWER = "viewer", "Viewer"


class Perm(models.TextChoices):
    VIEW = "view", "See clients, deals, catalog and the timeline"
    CRM_EDIT = "crm.edit", "Create and edit clients, contacts and deals"
    CRM_DELETE = "crm.delete", "Delete clients, contacts and deals"
    CATALOG_EDIT = "catalog.edit", "Create, edit and archive services and tax rates"
    IMPORT = "import", "Import clients and services from CSV"
    EXPORT = "export", "Export clients to CSV"
    AGENCY_SETTINGS = "agency.settings", "Change the agency's settings"
    MEMBERS_MANAGE = "members.manage", "Invite people and change roles"
    API_TOKENS = "api.tokens", "Hold personal API tokens and use the API"
    ESTIMATE_EDIT = "estimate.edit", "Create, send and convert estimates"
    INVOICE_EDIT = "invoice.edit", "Create, issue, send and void invoices"
    PAYMENT_RECORD = "payment.record", "Record payments, apply client credit and refund"
    REPORTS = "reports.view", "See revenue, DSO, MRR and the financial reports"


_ALL = set(Perm)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(_ALL),
    Role.ADMIN: frozenset(_ALL - {Perm.MEMBERS_MANAGE}),
    Role.FINANCE: frozenset(
        {
            Perm.VIEW,
            Perm.CRM_EDIT,
            Perm.CATALOG_EDIT,
            Perm.IMPORT,
            Perm.EXPORT,
            Perm.API_TOKENS,
            Perm.ESTIMATE_EDIT,
            Perm.INVOICE_EDIT,
            Perm.PAYMENT_RECORD,
            Perm.REPORTS,
        }
    ),
    Role.SALES: frozenset(
        {Perm.VIEW, Perm.CRM_EDIT, Perm.EXPORT, Perm.API_TOKENS, Perm.ESTIMATE_EDIT}
    ),
    Role.VIEWER: frozenset({Perm.VIEW}),
}


def role_allows(role: str, perm: str) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def roles_allowing(perm: str) -> list[str]:
    return [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]
