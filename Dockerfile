# budgetopt REST API: `docker build -t budgetopt .` then `docker run -p 8000:8000 budgetopt`
# (SQLite inside the container's volume), or `docker compose up` for PostgreSQL.
# The page's front-end files (ECharts, fonts, Swagger UI, ReDoc), exactly as package-lock.json pins them.
FROM node:20-slim AS web
WORKDIR /web
COPY api/web/package.json api/web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/budgetopt.db BUDGETOPT_ASSETS_DIR=/app/web-assets
WORKDIR /app

# a CJK font, so charts draw Chinese channel names instead of empty boxes
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY optimizer ./optimizer
COPY api ./api
RUN pip install --no-compile . \
    && useradd --create-home --uid 10001 budgetopt \
    && mkdir /data && chown budgetopt /data

COPY --from=web /web/node_modules ./web-assets
COPY scenarios ./scenarios
USER budgetopt
VOLUME /data
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]

ENTRYPOINT ["budgetopt"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
