"""`manage.py check --deploy`: the registry's keys are present, well formed and distinct."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security, deploy=True)
def registry_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from . import crypto

    crypto.provider.cache_clear()
    crypto._hash_key.cache_clear()  # noqa: SLF001 - same package
    crypto._hmac_sha256.cache_clear()  # noqa: SLF001
    try:
        crypto.provider()
        crypto._hash_key()  # noqa: SLF001
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                str(exc), id="registry.E001", hint="See docs/decisions/0101-registry-personal-data.md."
            )
        ]
    return []
