"""The Celery app. Tasks live in each app's tasks.py; the schedule lives in django-celery-beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ruian_grid.settings")

app = Celery("ruian_grid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
