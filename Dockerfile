FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN SECRET_KEY=build-only DEBUG=1 python manage.py compilemessages --ignore=.venv -v0 \
 && SECRET_KEY=build-only python manage.py collectstatic --noinput -v0
RUN useradd --system app && chown -R app /app
USER app
EXPOSE 8000
