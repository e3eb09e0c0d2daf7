"""The staff pages of recurring schedules, under /recurring/."""

from django.urls import path

from clientledger.recurring.views import editing, lifecycle, schedules, setup

app_name = "recurring"
urlpatterns = [
    path("", schedules.schedule_list, name="schedule_list"),
    path("new/", setup.schedule_new, name="schedule_new"),
    path("new/<int:client_pk>/", setup.schedule_create_view, name="schedule_create"),
    path(
        "new/<int:client_pk>/totals/",
        setup.schedule_create_totals,
        name="schedule_create_totals",
    ),
    path(
        "from-deal/<int:deal_pk>/",
        setup.schedule_create_from_deal_view,
        name="schedule_create_from_deal",
    ),
    path("<int:pk>/", schedules.schedule_detail, name="schedule_detail"),
    path("<int:pk>/invoices/", schedules.schedule_invoices, name="schedule_invoices"),
    path("<int:pk>/edit/", editing.schedule_edit, name="schedule_edit"),
    path("<int:pk>/lines/", editing.schedule_lines, name="schedule_lines"),
    path("<int:pk>/lines/totals/", editing.schedule_lines_totals, name="schedule_lines_totals"),
    path("<int:pk>/pause/", lifecycle.schedule_pause_view, name="schedule_pause"),
    path("<int:pk>/resume/", lifecycle.schedule_resume_view, name="schedule_resume"),
    path("<int:pk>/end/", lifecycle.schedule_end_view, name="schedule_end"),
]
