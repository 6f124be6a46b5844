# syntax=docker/dockerfile:1
# Placer API server. Build: docker build -t placer .
# Run (embedded PostgreSQL in the volume): docker run -p 8000:8000 -v placer-data:/var/lib/placer placer
# Run against an external PostgreSQL: add -e PLACER_DATABASE_URL=postgresql://user:pass@host/db

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/placer
COPY pyproject.toml README.md ./
COPY app ./app
RUN /opt/placer/bin/pip install .

FROM python:3.11-slim-bookworm
RUN useradd --system --create-home --uid 10001 --user-group placer \
    && mkdir -p /var/lib/placer /opt/placer-share \
    && chown placer:placer /var/lib/placer
COPY --from=build /opt/placer /opt/placer
COPY migrations /opt/placer-share/migrations
COPY policies /opt/placer-share/policies
ENV PATH=/opt/placer/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PLACER_DATA_DIR=/var/lib/placer \
    PLACER_MIGRATIONS_DIR=/opt/placer-share/migrations \
    PLACER_POLICIES_DIR=/opt/placer-share/policies
USER placer
WORKDIR /home/placer
VOLUME ["/var/lib/placer"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["placer"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
