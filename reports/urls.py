from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.node, name="node"),
    path("<int:pk>/export.xlsx", views.dashboard_export, name="node_export"),
    path("assessment/", views.rounds, name="rounds"),
    path("assessment/<int:pk>/", views.round_detail, name="round"),
    path("assessment/<int:pk>/export.xlsx", views.round_export, name="round_export"),
    path("assessment/scorecards/<int:pk>/", views.scorecard_detail, name="scorecard"),
    path("assessment/scorecards/<int:pk>/scorecard.pdf", views.scorecard_pdf, name="scorecard_pdf"),
    path("cases/<int:pk>/sheet.pdf", views.case_sheet_pdf, name="case_sheet"),
]

# The residents' satisfaction survey (issue 13); the public answer page is /s/<token>/ (root urls).
from . import survey_views  # noqa: E402

urlpatterns += [
    path("surveys/", survey_views.surveys, name="surveys"),
    path("surveys/<int:pk>/", survey_views.survey_detail, name="survey"),
    path("surveys/<int:pk>/status/", survey_views.survey_status, name="survey_status"),
    path("surveys/<int:pk>/export.xlsx", survey_views.survey_export, name="survey_export"),
    path("surveys/<int:pk>/codes/<int:node>/", survey_views.survey_codes, name="survey_codes"),
]
