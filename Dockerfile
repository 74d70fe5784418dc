# One image for the api, monitor and scheduler services (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto-clients curl fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md safewatch.py ./
COPY api ./api
COPY monitor ./monitor
COPY scheduler ./scheduler
COPY services ./services
COPY config ./config
COPY domain ./domain
COPY storage ./storage
COPY demo ./demo
RUN pip install . && useradd --system --uid 10001 safewatch && mkdir -p /data \
 && chown safewatch /data
USER safewatch
ENV SAFEWATCH_DATA_DIR=/data
EXPOSE 8000
CMD ["safewatch", "serve"]
