from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

from clientledger.api.router import api
from clientledger.core.views import healthz
from clientledger.payments.stripe.webhooks import stripe_webhook
from clientledger.reporting.views import dashboard

handler403 = "clientledger.core.errors.permission_denied"
handler404 = "clientledger.core.errors.page_not_found"
handler500 = "clientledger.core.errors.server_error"

urlpatterns = [
    path("", dashboard, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("clientledger.accounts.urls")),
    path("clients/", include("clientledger.crm.urls")),
    path("clients/", include("clientledger.crm.urls_csv")),
    path("catalog/", include("clientledger.catalog.urls")),
    path("billing/", include("clientledger.billing.urls")),
    path("payments/", include("clientledger.payments.urls")),
    path("recurring/", include("clientledger.recurring.urls")),
    path("receivables/", include("clientledger.receivables.urls")),
    path("reports/", include("clientledger.reporting.urls")),
    path("p/", include("clientledger.portal.urls")),
    path("api/v1/", api.urls),
    path("webhooks/stripe", stripe_webhook, name="stripe_webhook"),
]
# Agency logos are public (documents and the client portal show them); everything else under
# MEDIA_ROOT, such as stored PDFs, is only ever served by views that check access.
urlpatterns.append(
    re_path(
        r"^media/logos/(?P<path>.+)$",
        serve,
        {"document_root": settings.MEDIA_ROOT / "logos"},
        name="logo",
    )
)
