"""gunicorn entry of the benchmark server (bench/http_load.py): the product's WSGI application with
ROOT_URLCONF pointed at bench/bench_urls.py, which adds the bare baseline view. Run with
`--pythonpath bench` so that module is found; the product never loads this file."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
settings.ROOT_URLCONF = "bench_urls"
