"""The signed-in member's role and permissions, for every template."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from clientledger.accounts.roles import ROLE_PERMISSIONS


def membership(request: HttpRequest) -> dict[str, Any]:
    current = getattr(request, "membership", None)
    perms = ROLE_PERMISSIONS.get(current.role, frozenset()) if current else frozenset()
    return {
        "membership": current,
        "agency": getattr(request, "agency", None),
        # Templates hide what a role cannot do; views enforce it regardless.
        "can": {perm.replace(".", "_"): True for perm in perms},
    }
