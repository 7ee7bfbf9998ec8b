# paperbot: slim Python 3.11, non-root, state (database + Markdown digests) in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PAPERBOT_CONFIG=/app/config/paperbot.yaml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY config ./config
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin paperbot \
    && mkdir -p /data \
    && chown paperbot:paperbot /data

# Relative paths in the config (data/paperbot.db, digests/) resolve inside the volume.
WORKDIR /data
VOLUME ["/data"]
USER paperbot

EXPOSE 8080
# /healthz answers 200 while the scheduler runs and the database is writable.
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["paperbot"]
CMD ["run", "--ops-port", "8080", "--ops-host", "0.0.0.0"]
