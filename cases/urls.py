from django.urls import path

from . import supervision_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("from-visit/<int:visit_pk>/", views.case_from_visit, name="from_visit"),
    path("unit-people/", views.unit_people, name="unit_people"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/sheet/", views.case_sheet, name="sheet"),
    path("<int:pk>/do/<slug:action>/", views.case_act, name="act"),
    path("<int:pk>/files/", views.case_upload, name="upload"),
    path("<int:pk>/files/<int:attachment_pk>/", views.case_file, name="file"),
    path("<int:pk>/supervise/", supervision_views.order_issue, name="order_issue"),
    path("supervision/", supervision_views.order_list, name="orders"),
    path("supervision/export.xlsx", supervision_views.order_export, name="orders_export"),
    path("supervision/<int:pk>/", supervision_views.order_detail, name="order"),
]
