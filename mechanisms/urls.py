from django.urls import path

from . import views

app_name = "mechanisms"
urlpatterns = [
    path("", views.index, name="index"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/<slug:what>/", views.review_act, name="review_act"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/<int:pk>/", views.warning_detail, name="warning"),
    path("drafts/", views.draft_list, name="drafts"),
    path("drafts/<int:pk>/", views.draft_detail, name="draft"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("posts/", views.post_list, name="posts"),
    path("posts/<int:pk>/", views.post_detail, name="post"),
    path("analyses/", views.analysis_list, name="analyses"),
    path("analyses/<int:pk>/", views.analysis_detail, name="analysis"),
    path("patrols/", views.patrol_list, name="patrols"),
    path("patrols/<int:pk>/", views.patrol_detail, name="patrol"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
]
