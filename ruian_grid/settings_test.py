"""Settings for the test suite: the production settings, with test-only relaxations set here."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Sessions read from the cache as in production: the suite is one process (the live server of the
# browser tests is a thread of it), so its per-process cache is shared by every request.
os.environ.setdefault("SESSION_CACHED", "1")
# Registry personal-data keys for tests only (base64 of fixed test strings; never used elsewhere).
os.environ.setdefault(
    "REGISTRY_ENCRYPTION_KEYS",
    "t2:dGVzdC1vbmx5LXJlZ2lzdHJ5LWtleS10d28tMzItYnl0ZXMh,t1:dGVzdC1vbmx5LXJlZ2lzdHJ5LWtleS1vbmUtMzItYnl0ZXMh",
)
os.environ.setdefault("REGISTRY_HASH_KEY", "dGVzdC1vbmx5LXJlZ2lzdHJ5LWhhc2gta2V5LTMyLWJ5dGVzIQ==")

from .settings import *  # noqa: E402, F403
from .settings import STORAGES, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
MEDIA_ROOT = VAR_DIR / "test-media"
LANGUAGE_CODE = "zh-hans"

# A fresh connection per request: browser tests end the live server's sessions between modules, and a
# persistent connection killed that way would fail the next module's requests.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
