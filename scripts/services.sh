#!/usr/bin/env bash
# Starts PostgreSQL and Mosquitto for the tests only if nothing answers already (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -z "$version" ]; then
    echo "PostgreSQL is not installed and nothing answers on 127.0.0.1:5432" >&2
    exit 1
  fi
  echo "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "starting Mosquitto on 127.0.0.1:1883 with the project's config"
  mkdir -p var/mosquitto
  .venv/bin/python - <<'PY'
from pathlib import Path
from monitor.broker import write_config
write_config(Path("var/mosquitto"), port=1883)
PY
  mosquitto -d -c var/mosquitto/mosquitto.conf
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break; sleep 0.2; done
fi
