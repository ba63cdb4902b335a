#!/usr/bin/env bash
# The one-command run: builds the worker if needed, starts an embedded Kafka broker when KAFKA_BOOTSTRAP_SERVERS is
# not set, and runs the packaged worker against the clusters of a kubeconfig (default: $KUBECONFIG or ~/.kube/config).
#   scripts/run-local.sh                 # worker on http://localhost:8080, broker on 127.0.0.1:9092
#   scripts/request.sh <clusterId>       # in another shell: send a request, print the result
# Env: KAFKA_BOOTSTRAP_SERVERS (use that broker instead), LOCAL_KAFKA_PORT (9092), KUBECONFIG, and any
# AUTHORIZER_* / QUARKUS_* setting.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/classpath.sh

if [ ! -f target/quarkus-app/quarkus-run.jar ] || [ -n "${REBUILD:-}" ]; then
  echo "building the worker (mvn package -DskipTests)..."
  mvn -q -B package -DskipTests
fi

broker_pid=""
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  port="${LOCAL_KAFKA_PORT:-9092}"
  ready=$(mktemp)
  rm -f "$ready"
  echo "starting an embedded Kafka broker on 127.0.0.1:$port (log: target/local-kafka.log)..."
  java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "$(test_classpath)" io.apigw.authorizer.devtools.LocalKafka broker "$port" "$ready" \
    > target/local-kafka.log 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 120); do
    [ -s "$ready" ] && break
    kill -0 "$broker_pid" 2>/dev/null || { echo "the broker failed to start; see target/local-kafka.log" >&2; exit 1; }
    sleep 0.5
  done
  [ -s "$ready" ] || { echo "the broker did not start within 60 s" >&2; exit 1; }
  export KAFKA_BOOTSTRAP_SERVERS="$(cat "$ready")"
  echo "broker ready at $KAFKA_BOOTSTRAP_SERVERS"
fi

echo "starting the worker (Ctrl-C stops both)..."
java -jar target/quarkus-app/quarkus-run.jar &
worker_pid=$!
trap 'kill $worker_pid 2>/dev/null; wait $worker_pid 2>/dev/null; cleanup' EXIT INT TERM
wait "$worker_pid"
