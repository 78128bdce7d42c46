"""The periodic schedule, in one place. `manage.py sync_schedule` writes it into django-celery-beat,
where an administrator may then edit times; running it again changes nothing it has already written.

Each entry: name -> {"task": dotted task name, "crontab": dict of crontab fields, "kwargs": {...}}.
Apps add their entries here (times in Asia/Shanghai).
"""

SCHEDULE: dict[str, dict] = {
    # cases: reminders, overdue marks, graded supervision orders and their climbing, every five minutes.
    "cases-deadline-sweep": {"task": "cases.deadline_sweep", "crontab": {"minute": "*/5"}, "kwargs": {}},
    # teams: send the outbox (e-mail, SMS) every minute; failed sends wait their back-off.
    "teams-deliveries-send": {"task": "teams.deliveries_send", "crontab": {"minute": "*"}, "kwargs": {}},
    # registry: delete refused-row files after 7 days (they hold what the uploader typed), close stuck imports.
    "registry-purge-import-files": {
        "task": "registry.purge_import_files",
        "crontab": {"minute": "30", "hour": "3"},
        "kwargs": {"days": 7},
    },
    # outbox: publish work the broker could not take when it was down; delete rows sent a week ago.
    "outbox-relay": {"task": "outbox.relay", "crontab": {"minute": "*"}, "kwargs": {}},
    # mechanisms: open last month's dispute reviews on the 1st (daily at 00:30: a run missed on the 1st is
    # made up the next night; a rerun writes nothing), chase late reviews, expire and chase warnings,
    # follow meeting decisions (daily 08:00), and the nightly early-warning test (01:30).
    "mechanisms-reviews-open": {
        "task": "mechanisms.reviews_open",
        "crontab": {"minute": "30", "hour": "0"},
        "kwargs": {},
    },
    "mechanisms-daily-sweep": {
        "task": "mechanisms.daily_sweep",
        "crontab": {"minute": "0", "hour": "8"},
        "kwargs": {},
    },
    "mechanisms-early-warning": {
        "task": "mechanisms.early_warning",
        "crontab": {"minute": "30", "hour": "1"},
        "kwargs": {},
    },
    # reports: the dashboards' monthly summary of past months, every hour (this month is counted live).
    "reports-summary-refresh": {"task": "reports.summary_refresh", "crontab": {"minute": "10"}, "kwargs": {}},
}
