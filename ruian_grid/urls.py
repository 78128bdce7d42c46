from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from reports import survey_views

from . import error_views, views

handler400 = error_views.bad_request
handler403 = error_views.permission_denied
handler404 = error_views.page_not_found
handler500 = error_views.server_error

# The admin names the product, in the chosen language.
admin.site.site_header = _("Ruian Grid administration")
admin.site.site_title = _("Ruian Grid administration")
admin.site.index_title = _("Grid, registry, cases and people")

urlpatterns = [
    path("", views.home, name="home"),
    path("grid/", views.grid_home, name="grid_home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI with its start-up script served as a file (no inline script); Swagger UI sets inline
    # styles, allowed on this page only.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path("api/v1/", include("ruian_grid.api_urls")),
    path("cases/", include("cases.urls")),
    path("mechanisms/", include("mechanisms.urls")),
    path("registry/", include("grids.registry.urls")),
    path("audit/", include("grids.audit.urls")),
    path("reports/", include("reports.urls")),
    # The residents' survey, answered on a phone without signing in: the link's token is the key.
    path("s/<str:token>/", survey_views.survey_answer, name="survey_answer"),
    path("", include("teams.urls")),
    path("", include("grids.urls")),
]
