"""Reminder settings, an invoice's reminders and a client's reminders and statement."""

from django.urls import path

from clientledger.receivables import views, views_statements

app_name = "receivables"
urlpatterns = [
    path("policies/", views.policy_settings, name="policy_settings"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("invoices/<int:invoice_pk>/", views.invoice_reminders, name="invoice_reminders"),
    path(
        "invoices/<int:invoice_pk>/pause/",
        views.invoice_reminders_pause_view,
        name="invoice_reminders_pause",
    ),
    path(
        "invoices/<int:invoice_pk>/resume/",
        views.invoice_reminders_resume_view,
        name="invoice_reminders_resume",
    ),
    path("clients/<int:client_pk>/", views.client_reminders, name="client_reminders"),
    path(
        "clients/<int:client_pk>/edit/", views.client_reminders_edit, name="client_reminders_edit"
    ),
    path(
        "clients/<int:client_pk>/statement/",
        views_statements.client_statement_view,
        name="client_statement",
    ),
    path(
        "clients/<int:client_pk>/statement/pdf/",
        views_statements.client_statement_pdf,
        name="client_statement_pdf",
    ),
    path(
        "clients/<int:client_pk>/statement/send/",
        views_statements.client_statement_send,
        name="client_statement_send",
    ),
]
