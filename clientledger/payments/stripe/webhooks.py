"""The endpoint Stripe posts its events to."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clientledger.payments.models import StripeEventStatus
from clientledger.payments.stripe.inbox import (
    WebhookRejected,
    stripe_event_handle,
    webhook_verify,
)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event, agency = webhook_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except WebhookRejected as rejection:
        return HttpResponse(str(rejection), status=400, content_type="text/plain")
    record = stripe_event_handle(event=event, agency=agency)
    # A failed event answers 500 so that Stripe delivers it again and it is retried.
    status = 500 if record.status == StripeEventStatus.FAILED else 200
    return HttpResponse(record.status, status=status, content_type="text/plain")
