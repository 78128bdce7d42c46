# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES := chromium fonts-wqy-microhei gettext libpango-1.0-0 libpangoft2-1.0-0

.PHONY: run test lint format bench bench-http bench-supervision fuzz system-deps messages migrate seed worker clean audit backup restore faults soak

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# Debian packages the browser tests and translations need (chromium, a CJK font, msgfmt).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

messages: $(STAMP)
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v0

migrate: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput -v0
	DEBUG=1 $(PY) manage.py sync_schedule

seed: migrate
	DEBUG=1 $(PY) manage.py seed_demo

# The product with the demo city on the embedded default: SQLite and a broker on a local SQLite file.
run: system-deps messages seed
	@echo ""
	@echo "Ruian Grid: http://$(HOST):$(PORT)/   (admin: /admin/, API: /api/v1/, docs: /api/docs/)"
	@echo "Sign in with a demo user above (password ruian-demo-2026)."
	@echo ""
	DEBUG=1 $(VENV)/bin/celery -A ruian_grid worker -B --concurrency 1 --loglevel INFO & \
	  worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	  DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The whole suite. DATABASE_URL chooses the database (SQLite in memory when unset).
test: system-deps messages lint
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	@# Production settings with throwaway secrets: the deploy checklist must come out clean.
	key() { $(PY) -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'; }; \
	  SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" ALLOWED_HOSTS=grid.example.org \
	  REGISTRY_ENCRYPTION_KEYS="k1:$$(key)" REGISTRY_HASH_KEY="$$(key)" DATABASE_URL=sqlite:///:memory: \
	  $(PY) manage.py check --deploy --fail-level WARNING
	$(VENV)/bin/pytest -n 2 --dist loadfile -q --durations=25  # the slowest, to keep the suite in budget

# Schemathesis over every API operation with many more examples than `make test` runs (6 each).
FUZZ_EXAMPLES ?= 300
fuzz: $(STAMP) messages
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/test_api_fuzz.py -q -n 2

# Slow measurements, printed; never part of `make test`. Each figure beside its baseline in one table,
# on PostgreSQL databases of its own (ruian_bench_<scale> on BENCH_DATABASE_URL's server), written to
# bench/results/<scale>.json. SCALE=small (default) or SCALE=province. The dashboard and deadline-scan rows
# build 1,000,000-case datasets of their own the first time (tens of minutes; bench/run.py --help).
SCALE ?= small
bench: $(STAMP)
	mkdir -p var
	$(PY) bench/run.py --scale $(SCALE)

# HTTP under bounded load on the same dataset: gunicorn (2 workers), each main endpoint beside a bare
# view for BENCH_HTTP_SECONDS (default 20) with BENCH_HTTP_CLIENTS (default 8); bench/results/http-<scale>.json.
bench-http: $(STAMP)
	mkdir -p var
	$(PY) bench/http_load.py --scale $(SCALE)

# Known vulnerabilities in requirements.lock (pip-audit); accepted ones, with reasons, in
# ops/accepted-vulnerabilities.toml. Run by CI after the tests. AUDIT_STRICT=1 also fails when the
# vulnerability service cannot be reached.
audit: $(STAMP)
	$(PY) ops/audit.py

# PostgreSQL backups (pg_dump -Fc of DATABASE_URL into var/backups/, newest BACKUP_KEEP kept) and
# restores (pg_restore --clean --if-exists into RESTORE_DATABASE_URL, else DATABASE_URL).
backup: $(STAMP)
	$(PY) ops/backup.py backup

restore: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=var/backups/<timestamp>.dump"; exit 2; }
	$(PY) ops/backup.py restore "$(FILE)"

# Stop and restart Redis, PostgreSQL and a worker under a throwaway stack on loopback ports of its own
# (never the machine's shared services); PASS/FAIL per scenario. Not part of `make test`.
faults: $(STAMP) messages
	$(PY) ops/faults.py

# A steady rate on the main pages and endpoints for SOAK_SECONDS (default 60) on a throwaway stack:
# no error, gunicorn workers' memory flat. Not part of `make test`.
soak: $(STAMP) messages
	$(PY) ops/soak.py

# The deadline scan over 1,000,000 open cases of which 50,000 just became overdue, on its own database
# (ruian_bench_supervision): one scan's time, a second scan writing nothing, the statements' plans;
# written to bench/supervision_scan_results.md. `make bench` runs it too and puts its figures in its table.
bench-supervision: $(STAMP)
	$(PY) bench/supervision_scan.py

clean:
	rm -rf $(VENV) var staticfiles
