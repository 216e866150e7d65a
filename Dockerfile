# budgetopt: plans the 2026 example by default; the REST service replaces this command later.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY optimizer ./optimizer
COPY api ./api
RUN pip install --no-compile . && useradd --create-home --uid 10001 budgetopt

COPY scenarios ./scenarios
USER budgetopt

ENTRYPOINT ["budgetopt"]
CMD ["plan", "scenarios/annual_2026.yaml"]
