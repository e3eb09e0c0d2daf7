"""The client picker: a search box that narrows a client select to a bounded list of matches
(`selectors.client_matches`), as you type (htmx asks `client_options`) or, without
JavaScript, when the form is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm.models import Client
from clientledger.crm.selectors import client_matches

# The search box's name is the select's with this suffix ("client" -> "client_q").
SEARCH_SUFFIX = "_q"
SEARCH_MAX_LENGTH = 100


def client_label(client: Client) -> str:
    return f"{client.name} ({client.currency})"


def picker_search(data: Mapping[str, Any], name: str) -> str:
    """What was typed in the search box of the picker for field `name`."""
    return str(data.get(f"{name}{SEARCH_SUFFIX}", "") or "")[:SEARCH_MAX_LENGTH]


class ClientPicker(forms.Select):
    """A form's client select with its search box; the form sets `search` and, through
    `bounded_choices`, the options (the field's queryset still validates any client)."""

    template_name = "crm/widgets/client_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.search = ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["picker"] = {
            "search_name": f"{name}{SEARCH_SUFFIX}",
            "search": self.search,
            "options_url": reverse("crm:client_options"),
            "empty_label": next(iter(self.choices), ("", ""))[1],
        }
        return context


def bounded_choices(
    form: forms.BaseForm, *, name: str, agency: Agency, selected_id: Any, empty_label: str
) -> None:
    """Give the form's client picker `name` the chosen client and the matches of its search."""
    widget = form.fields[name].widget
    assert isinstance(widget, ClientPicker)
    widget.search = picker_search(form.data, name) if form.is_bound else ""
    clients = client_matches(agency=agency, search=widget.search, selected_id=selected_id)
    widget.choices = [("", empty_label)] + [(client.pk, client_label(client)) for client in clients]


@require_GET
@require_perm(Perm.VIEW)
def client_options(request: AgencyRequest) -> HttpResponse:
    """The options of a picker for what was typed: htmx swaps them into its select."""
    name = request.GET.get("field", "client")
    clients = client_matches(
        agency=request.agency,
        search=picker_search(request.GET, name),
        selected_id=request.GET.get(name),
    )
    return render(
        request,
        "crm/_client_options.html",
        {
            "clients": clients,
            "selected_id": request.GET.get(name, ""),
            "empty_label": request.GET.get("empty", "")[:SEARCH_MAX_LENGTH],
        },
    )
