"""/api/v1/: each app registers its viewsets on the one router."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from grids.api import GridNodeViewSet

router = DefaultRouter()
router.register("grids", GridNodeViewSet, basename="grid")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("", include(router.urls)),
]
