#!/usr/bin/env bash
# Sends one request for CLUSTER_ID and prints the worker's result, then a one-line summary.
#   scripts/request.sh [authorize|check|deauthorize] <clusterId> [region]     (default: authorize)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/classpath.sh
[ $# -ge 1 ] || { echo "usage: scripts/request.sh [authorize|check|deauthorize] <clusterId> [region]" >&2; exit 2; }
type=authorize
case "$1" in authorize|check|deauthorize) type=$1; shift ;; esac
[ $# -ge 1 ] || { echo "usage: scripts/request.sh [authorize|check|deauthorize] <clusterId> [region]" >&2; exit 2; }
[ -f target/quarkus-app/quarkus-run.jar ] || { echo "the worker is not built yet: start scripts/run-local.sh first (it builds it and the tools this script uses)" >&2; exit 2; }
exec java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "$(test_classpath)" io.apigw.authorizer.devtools.LocalKafka request \
  "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:${LOCAL_KAFKA_PORT:-9092}}" "$type" "$@"
