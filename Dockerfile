FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz0b libfontconfig1 fonts-dejavu-core openssl curl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir -e . 2>/dev/null || true
COPY . .
RUN pip install --no-cache-dir -e . \
 && DEBUG=0 SECRET_KEY=build-only-not-secret-build-only-not-secret-xyz ALLOWED_HOSTS=x \
    python manage.py collectstatic --noinput \
 && useradd --system --home /app corsipa && chown -R corsipa /app/var
USER corsipa
EXPOSE 8000
# Bind, workers, timeout and an access log with the client's address: deploy/gunicorn.conf.py.
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "portal.wsgi:application"]
