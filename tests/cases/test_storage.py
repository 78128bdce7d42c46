"""Attachment storage: local by default, S3-compatible (private, signed URLs) when configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django; django.setup();"
    "from django.core.files.storage import storages; s = storages['default'];"
    "print(type(s).__module__ + '.' + type(s).__name__, getattr(s, 'bucket_name', ''),"
    " getattr(s, 'default_acl', ''), getattr(s, 'querystring_auth', ''))"
)


def _probe(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASES_S3")}
    environment.update({"DJANGO_SETTINGS_MODULE": "ruian_grid.settings_test", **env})
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_local_storage_by_default():
    assert _probe().startswith("django.core.files.storage.filesystem.FileSystemStorage")


def test_s3_compatible_storage_when_a_bucket_is_set():
    out = _probe(CASES_S3_BUCKET="ruian-cases", CASES_S3_ENDPOINT_URL="http://127.0.0.1:9000")
    assert out == "storages.backends.s3.S3Storage ruian-cases private True"
