"""The cases fixtures the outbox tests record and dispatch with."""

from tests.cases.conftest import units  # noqa: F401  (fixture)
