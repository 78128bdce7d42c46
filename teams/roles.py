"""Named bundles of grid rights given to people at their home node."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Role(TextChoices):
    CITY_ADMIN = "city_admin", _("city administrator")
    TOWNSHIP_ADMIN = "township_admin", _("township administrator")
    TOWNSHIP_STAFF = "township_staff", _("township staff")
    CELL_MEMBER = "cell_member", _("village service-team member")
    VIEWER = "viewer", _("viewer")


ROLE_PERMS: dict[str, tuple[str, ...]] = {
    Role.CITY_ADMIN: (
        "view_gridnode",
        "manage_grid",
        "view_personal_data",
        "manage_registry",
        "record_case",
        "manage_cases",
        "assign_plots",
    ),
    Role.TOWNSHIP_ADMIN: (
        "view_gridnode",
        "manage_grid",
        "manage_registry",
        "record_case",
        "manage_cases",
        "assign_plots",
    ),
    # "A township user assigns every plot a responsible member" (issue 9): staff too, not only admins.
    Role.TOWNSHIP_STAFF: ("view_gridnode", "manage_registry", "record_case", "manage_cases", "assign_plots"),
    Role.CELL_MEMBER: ("view_gridnode", "manage_registry", "record_case"),
    Role.VIEWER: ("view_gridnode",),
}

# Roles whose holders use /admin/ for their subtree.
STAFF_ROLES = {Role.CITY_ADMIN, Role.TOWNSHIP_ADMIN}
