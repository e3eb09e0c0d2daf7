"""The report pages and their CSV exports, under /reports/: aging, client ledgers, revenue, MRR."""

from django.urls import path

from clientledger.reporting import views

app_name = "reporting"

urlpatterns = [
    path("aging/", views.aging_report, name="aging"),
    path("aging/invoices/", views.aging_invoice_list, name="aging_invoices"),
    path("aging.csv", views.aging_csv, name="aging_csv"),
    path("clients/<int:client_pk>/ledger.csv", views.client_ledger_csv, name="client_ledger_csv"),
    path("revenue/", views.revenue_report, name="revenue"),
    path("revenue.csv", views.revenue_csv, name="revenue_csv"),
    path("mrr/", views.mrr_report, name="mrr"),
    path("mrr.csv", views.mrr_csv, name="mrr_csv"),
]
