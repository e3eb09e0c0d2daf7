from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from clientledger.api.router import api
from clientledger.core.views import dashboard, healthz

urlpatterns = [
    path("", dashboard, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("clientledger.accounts.urls")),
    path("clients/", include("clientledger.crm.urls")),
    path("clients/", include("clientledger.crm.urls_csv")),
    path("catalog/", include("clientledger.catalog.urls")),
    path("billing/", include("clientledger.billing.urls")),
    path("p/", include("clientledger.portal.urls")),
    path("api/v1/", api.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
