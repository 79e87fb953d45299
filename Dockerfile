# Eidetic's application image: web (gunicorn), Celery worker and Celery beat all run it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Static files are collected at build time; the placeholders only satisfy the settings
# module's required variables and never reach a running container.
RUN DJANGO_SECRET_KEY=collectstatic-only \
    DATABASE_URL=sqlite:////tmp/unused.sqlite3 \
    KEYS_DATABASE_URL=sqlite:////tmp/unused-keys.sqlite3 \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    LEDGER_SIGNING_KEY=unused \
    python manage.py collectstatic --noinput

# Run as an unprivileged user that owns nothing but its scratch directory.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin eidetic \
    && mkdir -p /app/var \
    && chown eidetic /app/var
USER eidetic

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--config", "scripts/gunicorn.conf.py"]
