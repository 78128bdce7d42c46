"""Every view is scoped or on a short, explicit allowlist; every admin is scoped or superuser-only."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

from ruian_grid.admin_base import ScopedModelAdmin

# Views that show no tenant data.
ALLOWED_VIEWS = {
    "healthz",
    "login",
    "logout",
    "set_language",
    "schema",
    "api-docs",
    "api-root",
    "api-token",
    "service_worker",  # static JavaScript served from /field/ for its scope
    # The residents' survey page (/s/<token>/): answered on a phone without signing in by design; the
    # unguessable token is the key, and the page shows only the survey's questions and the cell's name.
    "survey_answer",
}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin" or p.app_name == "admin":
                continue  # checked by test_every_admin_is_scoped_or_superuser_only
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _is_scoped(callback) -> bool:
    for holder in (callback, getattr(callback, "view_class", None), getattr(callback, "cls", None)):
        if holder is not None and getattr(holder, "scoped", False):
            return True
    return False


def test_every_view_is_scoped_or_allowlisted():
    unscoped = [
        route
        for route, pattern in _walk(get_resolver().url_patterns)
        if pattern.name not in ALLOWED_VIEWS and not _is_scoped(pattern.callback)
    ]
    assert unscoped == []


# Admins of tables that hold no tenant data, open only to platform superusers.
SUPERUSER_ONLY_ADMINS = {
    "grids.Tenant",
    "auth.Group",
    "authtoken.TokenProxy",
    "django_celery_beat.PeriodicTask",
    "django_celery_beat.IntervalSchedule",
    "django_celery_beat.CrontabSchedule",
    "django_celery_beat.SolarSchedule",
    "django_celery_beat.ClockedSchedule",
    "outbox.OutboxMessage",
    "axes.AccessAttempt",
    "axes.AccessLog",
    "axes.AccessFailureLog",
}


def test_every_admin_is_scoped_or_superuser_only(cast, rf):
    request = rf.get("/admin/")
    request.user = cast.city_admin  # staff, holding every right on the city
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}.{model.__name__}"
        if isinstance(model_admin, ScopedModelAdmin):
            continue
        assert label in SUPERUSER_ONLY_ADMINS, f"{label} admin is neither scoped nor allowlisted"
        assert not model_admin.has_view_permission(request), f"{label} is open to a city administrator"
