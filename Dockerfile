FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# Build-time only settings: throwaway keys so that production settings load; the real ones come at run time.
RUN export SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
      REGISTRY_ENCRYPTION_KEYS="build:$(python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')" \
      REGISTRY_HASH_KEY="$(python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')" \
 && python manage.py compilemessages --ignore=.venv -v0 \
 && python manage.py collectstatic --noinput -v0
RUN useradd --system app && chown -R app /app
USER app
EXPOSE 8000
