#!/usr/bin/env bash
# Runs the Kafka log's conformance suite against a real Kafka-protocol broker in its own process.
#
# With KAFKA_BOOTSTRAP set (host:port,...), against that cluster (KAFKA_REPLICATION: the topics'
# replication factor, default 1). Otherwise against Tansu (a Kafka-compatible broker published as
# a Rust crate; no Apache Kafka package is reachable from the project's machines): installed with
# cargo if missing (about 20 minutes on 2 cores), started on a free loopback port with SQLite
# storage, stopped afterwards. Extra arguments go to the test binary (a test name filter, say).
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU_VERSION=0.6.0
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  tansu="${TANSU:-$(command -v tansu || true)}"
  if [ -z "$tansu" ] || ! "$tansu" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    echo "== installing tansu $TANSU_VERSION (a Kafka-compatible broker)"
    # With default features Tansu stores nothing; these give it the SQLite (libsql) engine.
    cargo install "tansu@$TANSU_VERSION" --locked --features dynostore,libsql
    tansu="$HOME/.cargo/bin/tansu"
  fi
  work="$(mktemp -d)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "== starting tansu on 127.0.0.1:$port"
  # Tansu takes the path after sqlite:// as relative to its working directory.
  (cd "$work" && exec "$tansu" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "sqlite://tansu.db" >"$work/broker.log" 2>&1) &
  broker=$!
  trap 'kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; rm -rf "$work"' EXIT
  listening=no
  for _ in $(seq 1 300); do
    if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $port)))"; then
      listening=yes
      break
    fi
    if ! kill -0 "$broker" 2>/dev/null; then
      echo "tansu exited:"; cat "$work/broker.log"; exit 1
    fi
    sleep 0.1
  done
  if [ "$listening" != yes ]; then
    echo "tansu is not listening on 127.0.0.1:$port after 300 tries:"; cat "$work/broker.log"; exit 1
  fi
  export KAFKA_BOOTSTRAP="127.0.0.1:$port"
  export KAFKA_REPLICATION=1
fi
echo "== the log conformance suite on the broker at $KAFKA_BOOTSTRAP"
cargo test -p beaconport-log-kafka --test broker_conformance -- --test-threads 2 "$@"
