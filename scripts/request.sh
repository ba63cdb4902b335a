#!/usr/bin/env bash
# Sends one request for CLUSTER_ID and prints the worker's result, then a one-line summary.
#   scripts/request.sh [authorize|check|deauthorize] <clusterId> [region]     (default: authorize)
#   scripts/request.sh rotate <clusterId> [region] [--grace PT10M]
#     --grace: how long the old token stays valid, an ISO-8601 duration (PT0S revokes it at once);
#              absent: the worker's authorizer.rotation.grace
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
  [ $# -eq 0 ] || echo "request.sh: $*" >&2
  echo "usage: scripts/request.sh [authorize|check|deauthorize] <clusterId> [region]" >&2
  echo "       scripts/request.sh rotate <clusterId> [region] [--grace PT10M]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
type=authorize
case "$1" in authorize|check|deauthorize|rotate) type=$1; shift ;; esac
cluster='' region='' grace='' positional=0 has_grace=false
while [ $# -gt 0 ]; do
  case "$1" in
    --grace) [ $# -ge 2 ] || usage "--grace needs a duration such as PT10M"
      grace=$2; has_grace=true; shift 2 ;;
    --grace=*) grace=${1#--grace=}; has_grace=true; shift ;;
    -*) usage "unknown option $1" ;;
    *) case $positional in 0) cluster=$1 ;; 1) region=$1 ;; *) usage "too many arguments" ;; esac
      positional=$((positional + 1)); shift ;;
  esac
done
[ "$positional" -ge 1 ] || usage
! $has_grace || [ "$type" = rotate ] || usage "--grace is for rotate only"
! $has_grace || [ -n "$grace" ] || usage "--grace needs a duration such as PT10M"
[ -f target/quarkus-app/quarkus-run.jar ] || { echo "the worker is not built yet: start scripts/run-local.sh first (it builds it and the tools this script uses)" >&2; exit 2; }
source scripts/lib/classpath.sh
args=("$type" "$cluster")
[ "$positional" -lt 2 ] || args+=("$region")
! $has_grace || args+=(--grace "$grace")
exec java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "$(test_classpath)" io.apigw.authorizer.devtools.LocalKafka request \
  "${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:${LOCAL_KAFKA_PORT:-9092}}" "${args[@]}"
