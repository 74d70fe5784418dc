#!/usr/bin/env bash
# Builds the vendored TimescaleDB (the compose image's version) and runs it as a second PostgreSQL 15 cluster on 127.0.0.1:5439.
# Idempotent: the build is skipped when the installed extension is already this version, the
# cluster is created once and only started when it is not answering.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=2.26.4
SHA256=c22e979ab407ba8958e07827f6718ac2e8a7f2cbb2f3f392ed2e3a370ae3b609
PG=15
PORT=${SW_TIMESCALE_PORT:-5439}
CLUSTER=ts
# The clone sits next to shared/ (CI: ../shared/vendor; here /work/shared/vendor).
VENDOR=${SW_VENDOR_DIR:-"$(cd .. && pwd)/shared/vendor"}
TARBALL="$VENDOR/timescaledb-$VERSION.tar.gz"
if [ -f "$TARBALL" ]; then :; elif [ -f /work/shared/vendor/timescaledb-$VERSION.tar.gz ]; then
  TARBALL=/work/shared/vendor/timescaledb-$VERSION.tar.gz
fi
# The build tree lives outside the repository: sources and binaries are never committed.
BUILD_ROOT=${SW_TIMESCALE_BUILD_DIR:-/var/tmp/safewatch-timescaledb}
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

pg_bin="/usr/lib/postgresql/$PG/bin"
ext_dir="/usr/share/postgresql/$PG/extension"
lib_dir="/usr/lib/postgresql/$PG/lib"

installed_version() {
  # The control file's default_version plus the versioned loader library: both come from `make install`.
  local control="$ext_dir/timescaledb.control"
  [ -f "$control" ] && [ -f "$lib_dir/timescaledb-$VERSION.so" ] || return 0
  sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$control"
}

build() {
  local missing=()
  dpkg -s "postgresql-server-dev-$PG" >/dev/null 2>&1 || missing+=("postgresql-server-dev-$PG")
  dpkg -s cmake >/dev/null 2>&1 || missing+=(cmake)
  dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "timescaledb: installing build dependencies: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -f "$TARBALL" ]; then
    echo "timescaledb: vendored source not found at $TARBALL" >&2
    exit 1
  fi
  echo "$SHA256  $TARBALL" | sha256sum --check --quiet
  mkdir -p "$BUILD_ROOT"
  rm -rf "$BUILD_ROOT/timescaledb-$VERSION"
  tar -xzf "$TARBALL" -C "$BUILD_ROOT"
  local src="$BUILD_ROOT/timescaledb-$VERSION"
  echo "timescaledb: building $VERSION in $src (a few minutes)"
  (
    cd "$src"
    PATH="$pg_bin:$PATH" ./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
      -DCMAKE_BUILD_TYPE=Release -DPG_CONFIG="$pg_bin/pg_config" >"$BUILD_ROOT/bootstrap.log" 2>&1 \
      || { tail -50 "$BUILD_ROOT/bootstrap.log" >&2; exit 1; }
    cd build
    make -j"$(nproc)" >"$BUILD_ROOT/make.log" 2>&1 || { tail -80 "$BUILD_ROOT/make.log" >&2; exit 1; }
    $SUDO make install >"$BUILD_ROOT/install.log" 2>&1 || { tail -50 "$BUILD_ROOT/install.log" >&2; exit 1; }
  )
}

ensure_cluster() {
  local conf_dir="/etc/postgresql/$PG/$CLUSTER"
  if [ ! -d "$conf_dir" ]; then
    echo "timescaledb: creating PostgreSQL $PG cluster '$CLUSTER' on port $PORT"
    $SUDO pg_createcluster "$PG" "$CLUSTER" --port "$PORT" >/dev/null
  fi
  # Rewritten every run so an old or hand-edited cluster converges on the same settings.
  $SUDO mkdir -p "$conf_dir/conf.d"
  printf '%s\n' \
    "listen_addresses = '127.0.0.1'" \
    "port = $PORT" \
    "shared_preload_libraries = 'timescaledb'" \
    "timescaledb.telemetry_level = off" \
    "autovacuum = off" \
    | $SUDO tee "$conf_dir/conf.d/90-safewatch.conf" >/dev/null
  printf '%s\n' \
    "local all all trust" \
    "host all all 127.0.0.1/32 trust" \
    | $SUDO tee "$conf_dir/pg_hba.conf" >/dev/null
  if ! "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "timescaledb: starting cluster $PG/$CLUSTER"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG" "$CLUSTER" start
    for _ in $(seq 1 60); do "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break; sleep 1; done
  fi
  "$pg_bin/pg_isready" -h 127.0.0.1 -p "$PORT" >/dev/null
  local preload
  preload=$(psql -X -A -t -h 127.0.0.1 -p "$PORT" -U postgres -c 'SHOW shared_preload_libraries')
  if [[ "$preload" != *timescaledb* ]]; then
    # Running from an earlier configuration: the library is only picked up on a restart.
    echo "timescaledb: restarting $PG/$CLUSTER to preload the library"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG" "$CLUSTER" restart
  fi
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres \
    -c 'CREATE EXTENSION IF NOT EXISTS timescaledb' >/dev/null
  local got
  got=$(psql -X -A -t -h 127.0.0.1 -p "$PORT" -U postgres \
    -c "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
  if [ "$got" != "$VERSION" ]; then
    echo "timescaledb: cluster reports extension version '$got', expected $VERSION" >&2
    exit 1
  fi
}

if [ "$(installed_version)" = "$VERSION" ]; then
  echo "timescaledb: $VERSION already installed, build skipped"
else
  build
fi
ensure_cluster
echo "timescaledb: $VERSION on 127.0.0.1:$PORT"
