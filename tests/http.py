"""The type of what Django's test client answers.

django-stubs names it `_MonkeyPatchedWSGIResponse` (an `HttpResponse` plus `json()`, `context`,
`templates`...) and it exists only in the stubs, so at run time the name stands for the plain
`HttpResponse` it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as ClientResponse
else:
    from django.http import HttpResponse as ClientResponse

__all__ = ["ClientResponse"]
