from django.urls import path

from . import views

app_name = "grids"
urlpatterns = [
    path("grid/<int:pk>/", views.node_detail, name="node"),
    path("grid/search/", views.node_search, name="node_search"),
]
