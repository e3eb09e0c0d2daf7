"""Payment and Stripe set-up pages."""

from django.urls import path

from clientledger.payments import views, views_stripe

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("new/", views.payment_create, name="payment_create"),
    path("<int:pk>/", views.payment_detail, name="payment_detail"),
    path("<int:pk>/refund/", views.payment_refund, name="payment_refund"),
    path("invoices/<int:invoice_pk>/", views.invoice_payments, name="invoice_payments"),
    path("invoices/<int:invoice_pk>/apply-credit/", views.credit_apply, name="credit_apply"),
    path(
        "credit-notes/<int:credit_note_pk>/refund/",
        views.credit_note_refund,
        name="credit_note_refund",
    ),
    path("clients/<int:client_pk>/", views.client_payments, name="client_payments"),
    path("stripe/", views_stripe.stripe_settings, name="stripe_settings"),
    path("stripe/events/", views_stripe.stripe_event_inbox, name="stripe_event_list"),
    path("stripe/events/<int:pk>/", views_stripe.stripe_event_detail, name="stripe_event_detail"),
    path(
        "stripe/events/<int:pk>/reprocess/",
        views_stripe.stripe_event_reprocess,
        name="stripe_event_reprocess",
    ),
]
