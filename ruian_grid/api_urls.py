"""/api/v1/: each app registers its viewsets on the one router."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from cases.api import CaseViewSet, UnitViewSet
from cases.supervision_api import OrderViewSet
from grids.api import GridNodeViewSet
from grids.audit.api import AuditEntryViewSet
from grids.registry import api as registry_api
from mechanisms.api import ROUTES as MECHANISM_ROUTES
from ruian_grid.signin import TokenView
from teams import api as teams_api
from teams.inbox_api import InboxViewSet

router = DefaultRouter()
router.register("grids", GridNodeViewSet, basename="grid")
router.register("cases", CaseViewSet, basename="case")
router.register("units", UnitViewSet, basename="unit")
router.register("supervision-orders", OrderViewSet, basename="supervision-order")
router.register("inbox", InboxViewSet, basename="inbox")

# People and field work (teams).
router.register("teams", teams_api.TeamViewSet, basename="team")
router.register("assignments", teams_api.AssignmentViewSet, basename="assignment")
router.register("visits", teams_api.VisitViewSet, basename="visit")
router.register("visit-cadences", teams_api.CadenceViewSet, basename="visit-cadence")
router.register("pairings", teams_api.PairingViewSet, basename="pairing")
router.register("work-log", teams_api.WorkLogViewSet, basename="work-log")
# The grid database (grids/registry).
router.register("registry/households", registry_api.HouseholdViewSet, basename="registry-household")
router.register("registry/residents", registry_api.ResidentViewSet, basename="registry-resident")
router.register("registry/buildings", registry_api.BuildingViewSet, basename="registry-building")
router.register("registry/dwellings", registry_api.DwellingViewSet, basename="registry-dwelling")
router.register(
    "registry/establishments", registry_api.EstablishmentViewSet, basename="registry-establishment"
)
router.register("registry/access-log", registry_api.AccessLogViewSet, basename="registry-access")
router.register("registry/imports", registry_api.ImportJobViewSet, basename="registry-import")
# Admin changes (grids/audit); reveals of personal data are the registry's access log above.
router.register("audit", AuditEntryViewSet, basename="audit")
# The working mechanisms (mechanisms/api.py).
for _prefix, _viewset, _basename in MECHANISM_ROUTES:
    router.register(_prefix, _viewset, basename=_basename)

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("reports/", include("reports.api_urls")),
    path("", include(router.urls)),
]
