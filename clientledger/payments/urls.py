from django.urls import path

from clientledger.payments import views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("new/", views.payment_create, name="payment_create"),
    path("<int:pk>/", views.payment_detail, name="payment_detail"),
    path("<int:pk>/refund/", views.payment_refund, name="payment_refund"),
    path("invoices/<int:invoice_pk>/", views.invoice_payments, name="invoice_payments"),
    path("invoices/<int:invoice_pk>/apply-credit/", views.credit_apply, name="credit_apply"),
    path("clients/<int:client_pk>/", views.client_payments, name="client_payments"),
]
