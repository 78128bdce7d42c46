from django.urls import path

from . import inbox_views, views

app_name = "teams"
urlpatterns = [
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/<int:pk>/open/", inbox_views.inbox_open, name="inbox_open"),
    path("inbox/read-all/", inbox_views.inbox_read_all, name="inbox_read_all"),
    path("field/", views.my_plots, name="my_plots"),
    path("field/visit/", views.visit_form, name="visit_form"),
    path("field/visits/<int:pk>/", views.visit_detail, name="visit"),
    path("field/sw.js", views.service_worker, name="service_worker"),
    path("teams/coverage/<int:pk>/", views.coverage, name="coverage"),
    path("teams/plots/<int:pk>/assign/", views.plot_assign, name="assign"),
    path("teams/pairings/<int:pk>/", views.pairings, name="pairings"),
    path("teams/log/", views.work_log, name="work_log"),
]
