from django.apps import AppConfig


class RuianGridConfig(AppConfig):
    name = "ruian_grid"
    verbose_name = "Ruian Grid"

    def ready(self) -> None:
        from . import inputs, workbench

        inputs.install()

        workbench.autodiscover()
