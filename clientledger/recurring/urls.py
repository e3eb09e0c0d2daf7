from django.urls import path

from clientledger.recurring import views

app_name = "recurring"
urlpatterns = [
    path("", views.schedule_list, name="schedule_list"),
    path("new/", views.schedule_new, name="schedule_new"),
    path("new/<int:client_pk>/", views.schedule_create_view, name="schedule_create"),
    path(
        "new/<int:client_pk>/totals/",
        views.schedule_create_totals,
        name="schedule_create_totals",
    ),
    path(
        "from-deal/<int:deal_pk>/",
        views.schedule_create_from_deal_view,
        name="schedule_create_from_deal",
    ),
    path("<int:pk>/", views.schedule_detail, name="schedule_detail"),
    path("<int:pk>/invoices/", views.schedule_invoices, name="schedule_invoices"),
    path("<int:pk>/edit/", views.schedule_edit, name="schedule_edit"),
    path("<int:pk>/lines/", views.schedule_lines, name="schedule_lines"),
    path("<int:pk>/lines/totals/", views.schedule_lines_totals, name="schedule_lines_totals"),
    path("<int:pk>/pause/", views.schedule_pause_view, name="schedule_pause"),
    path("<int:pk>/resume/", views.schedule_resume_view, name="schedule_resume"),
    path("<int:pk>/end/", views.schedule_end_view, name="schedule_end"),
]
