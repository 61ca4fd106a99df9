# syntax=docker/dockerfile:1
# One image per service, built from this file with the service named by build arguments:
#   docker build -f deploy/service.Dockerfile --build-arg SERVICE=identity \
#                --build-arg PACKAGE=identity -t edu/identity:0.1.0 .
# Two process kinds, scaled separately:
#   web (default):  gunicorn, HTTP on 8000 (/healthz, /readyz, /metrics)
#   worker:         python -m <PACKAGE>.worker (events + outbox relay), /healthz and /metrics on 9100

# --- build: every wheel is made here, so the runtime image carries no build tooling.
ARG SERVICE
ARG PACKAGE

FROM python:3.11-slim AS build
ARG SERVICE
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Pinned third-party dependencies first: this layer is reused until runtime.txt changes.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip wheel --wheel-dir /wheels/deps -r requirements/runtime.txt
COPY libs/edu-common libs/edu-common
COPY services/${SERVICE} services/${SERVICE}
RUN pip wheel --no-deps --wheel-dir /wheels/local ./libs/edu-common ./services/${SERVICE}

# --- runtime
FROM python:3.11-slim AS runtime
ARG SERVICE
ARG PACKAGE
LABEL org.opencontainers.image.title="edu-${SERVICE}"
ENV SERVICE_PACKAGE=${PACKAGE} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PORT=8000
# A fixed numeric uid, so Kubernetes can check runAsNonRoot without a passwd lookup.
RUN groupadd --system --gid 10001 edu \
 && useradd --system --uid 10001 --gid edu --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin edu \
 && install -d -o edu -g edu -m 0700 /run/prometheus
# The wheels are bind-mounted from the build stage, so they never become an image layer.
# Only the pinned set is installed, then our two packages without resolving anything else.
RUN --mount=type=bind,from=build,source=/src/requirements/runtime.txt,target=/tmp/runtime.txt \
    --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels/deps -r /tmp/runtime.txt \
 && pip install --no-index --no-deps /wheels/local/*.whl
WORKDIR /app
USER 10001:10001
EXPOSE 8000 9100
CMD ["sh", "-c", "exec gunicorn --config python:edu_common.gunicorn_conf \"${SERVICE_PACKAGE}.app:create_app()\""]
