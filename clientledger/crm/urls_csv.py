"""Client CSV import and export pages."""

from django.urls import path

from clientledger.crm import views_csv

app_name = "crm_csv"
urlpatterns = [
    path("import/", views_csv.client_import, name="client_import"),
    path(
        "import/template.csv", views_csv.client_import_template_view, name="client_import_template"
    ),
    path("export.csv", views_csv.client_export, name="client_export"),
]
