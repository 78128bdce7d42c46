from django.urls import path

from . import api

urlpatterns = [
    path("dashboard/", api.DashboardView.as_view(), name="reports-dashboard"),
    path("schemes/", api.SchemeCreateView.as_view(), name="reports-schemes"),
    path("rounds/", api.RoundListView.as_view(), name="reports-rounds"),
    path("rounds/<int:pk>/", api.RoundDetailView.as_view(), name="reports-round"),
    path(
        "rounds/<int:pk>/compute/", api.RoundActionView.as_view(action_name="compute"), name="reports-compute"
    ),
    path(
        "rounds/<int:pk>/publish/", api.RoundActionView.as_view(action_name="publish"), name="reports-publish"
    ),
    path(
        "rounds/<int:pk>/manual-scores/",
        api.RoundActionView.as_view(action_name="manual"),
        name="reports-manual-score",
    ),
    path("vetoes/<int:pk>/appeal/", api.VetoActionView.as_view(action_name="appeal"), name="reports-appeal"),
    path("vetoes/<int:pk>/decide/", api.VetoActionView.as_view(action_name="decide"), name="reports-decide"),
    path("scorecards/<int:pk>/rows/", api.ScorecardRowsView.as_view(), name="reports-rows"),
]

# The residents' satisfaction survey (issue 13).
from . import survey_api  # noqa: E402

urlpatterns += [
    path("surveys/", survey_api.SurveyListView.as_view(), name="reports-surveys"),
    path("surveys/<int:pk>/", survey_api.SurveyDetailView.as_view(), name="reports-survey"),
    path(
        "surveys/<int:pk>/open/",
        survey_api.SurveyActionView.as_view(action_name="open"),
        name="reports-survey-open",
    ),
    path(
        "surveys/<int:pk>/close/",
        survey_api.SurveyActionView.as_view(action_name="close"),
        name="reports-survey-close",
    ),
    path("surveys/<int:pk>/links/", survey_api.SurveyLinksView.as_view(), name="reports-survey-links"),
]

# Performance files, responsibility tracing, work reports, department scorecards (reports/api_files.py).
from . import api_files  # noqa: E402

urlpatterns += [
    path("cases/<int:pk>/tracing/", api_files.CaseTracingView.as_view(), name="reports-case-tracing"),
    path("cadres/", api_files.CadreListView.as_view(), name="reports-cadres"),
    path("cadres/<int:pk>/file/", api_files.CadreFileView.as_view(), name="reports-cadre-file"),
    path("work-reports/", api_files.WorkReportListView.as_view(), name="reports-work-reports"),
    path("work-reports/<int:pk>/", api_files.WorkReportDetailView.as_view(), name="reports-work-report"),
    path(
        "work-reports/<int:pk>/review/",
        api_files.WorkReportActionView.as_view(action_name="review"),
        name="reports-work-report-review",
    ),
    path(
        "work-reports/<int:pk>/score/",
        api_files.WorkReportActionView.as_view(action_name="score"),
        name="reports-work-report-score",
    ),
    path(
        "department-scorecards/<int:pk>/",
        api_files.DepartmentScorecardView.as_view(),
        name="reports-department-scorecard",
    ),
]
