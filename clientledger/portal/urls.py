"""Portal pages, by link token."""

from django.urls import path

from clientledger.portal import views

app_name = "portal"
urlpatterns = [
    path("<str:token>/", views.document, name="document"),
    path("<str:token>/approve/", views.approve, name="approve"),
    path("<str:token>/decline/", views.decline, name="decline"),
    path("<str:token>/pdf/", views.pdf, name="pdf"),
    path("<str:token>/pay/", views.pay, name="pay"),
    path("<str:token>/pay/done/", views.pay_success, name="pay_success"),
    path("<str:token>/pay/cancelled/", views.pay_cancel, name="pay_cancel"),
    path("<str:token>/statement/", views.statement, name="statement"),
    path("<str:token>/statement/pdf/", views.statement_pdf_download, name="statement_pdf"),
]
