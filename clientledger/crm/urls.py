"""Client, contact and deal pages."""

from django.urls import path

from clientledger.crm import client_picker, views, views_pipeline

app_name = "crm"
urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_create_view, name="client_create"),
    path("options/", client_picker.client_options, name="client_options"),
    path("<int:pk>/", views.client_detail, name="client_detail"),
    path("<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("<int:pk>/delete/", views.client_delete_view, name="client_delete"),
    path("<int:client_pk>/contacts/new/", views.contact_create_view, name="contact_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete_view, name="contact_delete"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create_view, name="deal_create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/delete/", views.deal_delete_view, name="deal_delete"),
    path("deals/<int:pk>/move/", views_pipeline.deal_move_view, name="deal_move"),
    path("deals/<int:pk>/lines/", views.deal_lines, name="deal_lines"),
    path("deals/<int:pk>/lines/totals/", views.deal_lines_totals, name="deal_lines_totals"),
    path("pipeline/", views_pipeline.pipeline, name="pipeline"),
]
