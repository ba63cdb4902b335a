#!/usr/bin/env bash
# Sends one ClusterAuthorizationRequested for CLUSTER_ID and prints the worker's result.
#   scripts/request.sh <clusterId> [region]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/classpath.sh
[ $# -ge 1 ] || { echo "usage: scripts/request.sh <clusterId> [region]" >&2; exit 2; }
exec java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "$(test_classpath)" io.apigw.authorizer.devtools.LocalKafka request \
  "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:${LOCAL_KAFKA_PORT:-9092}}" "$@"
