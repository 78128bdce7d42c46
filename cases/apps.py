from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # The supervision panel of the workbench (cases/panels.py holds the case counts).
        from . import supervision_panels  # noqa: F401
