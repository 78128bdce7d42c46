"""Cases, visits and households on the cast's tree for the dashboards (re-exports the cases and
teams fixtures)."""

from tests.cases.conftest import units  # noqa: F401
from tests.teams.conftest import field  # noqa: F401
