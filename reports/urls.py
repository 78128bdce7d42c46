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

# Performance files, responsibility tracing, work reports, department scorecards (reports/views_files.py).
from . import views_files  # noqa: E402

urlpatterns += [
    path("cases/<int:pk>/tracing/", views_files.case_tracing, name="case_tracing"),
    path("files/", views_files.cadres, name="cadres"),
    path("files/<int:pk>/", views_files.cadre_file, name="cadre_file"),
    path("files/<int:pk>/file.xlsx", views_files.cadre_file_export, name="cadre_file_export"),
    path("files/<int:pk>/file.pdf", views_files.cadre_file_pdf, name="cadre_file_pdf"),
    path("work-reports/", views_files.work_report_list, name="work_reports"),
    path("work-reports/<int:pk>/", views_files.work_report_detail, name="work_report"),
    path("work-reports/<int:pk>/attachment", views_files.work_report_file, name="work_report_file"),
    path("assessment/<int:pk>/departments/", views_files.round_departments, name="round_departments"),
    path(
        "assessment/<int:pk>/departments.xlsx",
        views_files.round_departments_export,
        name="round_departments_export",
    ),
    path("assessment/departments/<int:pk>/", views_files.department_card, name="department_card"),
    path(
        "assessment/departments/<int:pk>/scorecard.pdf",
        views_files.department_card_pdf,
        name="department_card_pdf",
    ),
]
