#!/usr/bin/env bash
# Re-publishes selected dead letters to the request topic they came from (docs/runbook.md, "Replaying dead letters").
#   scripts/replay-dlq.sh --bootstrap host:port [--command-config client.properties] [--from-offset N] [--to-offset N]
#                         [--reason text] [--key clusterId] [--limit N] [--dry-run]
# Always start with --dry-run: it lists what would be sent (partition, offset, key, reason; never values) and sends nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/classpath.sh
exec java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "$(test_classpath)" \
  io.apigw.authorizer.devtools.ReplayDeadLetters "$@"
