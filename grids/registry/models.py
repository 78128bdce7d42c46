"""The grid database (网格数据库): households, residents, buildings and units, plot by plot."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import GridNode, GridScoped


class Household(GridScoped):
    """A household (户): the unit a plot's ~150 counts. The registry issue extends it."""

    FOLLOWS_GRID = True

    plot = models.ForeignKey(GridNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("plot"))
    number = models.CharField(_("household number"), max_length=32)
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="grids_household_number_unique_in_tenant"),
        ]

    def __str__(self) -> str:
        return self.number
