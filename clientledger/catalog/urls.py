"""Catalog pages."""

from django.urls import path

from clientledger.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.service_list, name="service_list"),
    path("services/new/", views.service_create_view, name="service_create"),
    path("services/<int:pk>/edit/", views.service_edit, name="service_edit"),
    path("services/<int:pk>/archive/", views.service_archive, name="service_archive"),
    path("services/<int:pk>/restore/", views.service_restore, name="service_restore"),
    path("services/import/", views.service_import, name="service_import"),
    path(
        "services/import/template.csv",
        views.service_import_template_view,
        name="service_import_template",
    ),
    path("tax-rates/", views.taxrate_list, name="taxrate_list"),
    path("tax-rates/new/", views.taxrate_create, name="taxrate_create"),
    path("tax-rates/<int:pk>/edit/", views.taxrate_edit, name="taxrate_edit"),
    path("tax-rates/<int:pk>/archive/", views.taxrate_archive, name="taxrate_archive"),
    path("tax-rates/<int:pk>/restore/", views.taxrate_restore, name="taxrate_restore"),
]
