from django.urls import path

from clientledger.billing import views

app_name = "billing"
urlpatterns = [
    path("estimates/", views.estimate_list, name="estimate_list"),
    path("estimates/new/", views.estimate_create, name="estimate_create"),
    path(
        "deals/<int:deal_pk>/estimate/",
        views.estimate_create_from_deal,
        name="estimate_create_from_deal",
    ),
    path("estimates/<int:pk>/", views.estimate_detail, name="estimate_detail"),
    path("estimates/<int:pk>/edit/", views.estimate_edit, name="estimate_edit"),
    path("estimates/<int:pk>/lines/", views.estimate_lines, name="estimate_lines"),
    path(
        "estimates/<int:pk>/lines/totals/",
        views.estimate_lines_totals,
        name="estimate_lines_totals",
    ),
    path("estimates/<int:pk>/delete/", views.estimate_delete, name="estimate_delete"),
    path("estimates/<int:pk>/send/", views.estimate_send, name="estimate_send"),
    path("estimates/<int:pk>/convert/", views.estimate_convert, name="estimate_convert"),
    path(
        "estimates/<int:pk>/links/revoke/",
        views.estimate_links_revoke,
        name="estimate_links_revoke",
    ),
    path("estimates/<int:pk>/pdf/", views.estimate_pdf, name="estimate_pdf"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path(
        "deals/<int:deal_pk>/invoice/",
        views.invoice_create_from_deal,
        name="invoice_create_from_deal",
    ),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/lines/", views.invoice_lines, name="invoice_lines"),
    path(
        "invoices/<int:pk>/lines/totals/",
        views.invoice_lines_totals,
        name="invoice_lines_totals",
    ),
    path("invoices/<int:pk>/delete/", views.invoice_delete, name="invoice_delete"),
    path("invoices/<int:pk>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/send/", views.invoice_send, name="invoice_send"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path(
        "invoices/<int:pk>/links/revoke/",
        views.invoice_links_revoke,
        name="invoice_links_revoke",
    ),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/pdf/current/", views.invoice_pdf_current, name="invoice_pdf_current"),
]
