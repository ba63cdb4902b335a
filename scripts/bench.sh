#!/usr/bin/env bash
# Fleet benchmark (issue 7), run on demand; not part of `mvn verify`. See BENCHMARKS.md.
#
#   scripts/bench.sh                                   # the issue's defaults: N=200 M=2000 R=25ms T=100ms
#   scripts/bench.sh n=50 m=500 rtt-ms=10              # any knob as key=value (or env BENCH_N, BENCH_M, ...)
#   scripts/bench.sh variants='c256:authorizer.concurrency=256;c256-xmx128:authorizer.concurrency=256,-Xmx128m'
#   BENCH_JFR=target-bench/jfr scripts/bench.sh        # JFR recordings of the default worker's paced and burst phases
#   BENCH_DEFAULT=-Xmx256m scripts/bench.sh           # other JVM options for the default worker (default: as deployed)
#   BENCH_MAIN=SweepBenchmark scripts/bench.sh n=200 private-pct=0   # what a sweep costs, and the console beside it
#   BENCH_MAIN=DirectoryBenchmark scripts/bench.sh entries=10000       # one kubeconfig-directory lookup at fleet size;
#     BENCH_CLASSES=<an older build's target/classes> measures that build's directory in the same harness
#
# Builds the worker and the test classes into its own build directory (default target-bench, or BENCH_BUILD_DIR)
# when anything under src/ or pom.xml is newer than the packaged jar, computes the test classpath the way
# scripts/lib/classpath.sh does, and runs io.apigw.authorizer.bench.FleetBenchmark. Everything listens on 127.0.0.1.
# The output is also written to <build dir>/bench-<time>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${BENCH_BUILD_DIR:-$PWD/target-bench}"
mvn_=(mvn -q -B "-Dbuild.dir=$build_dir")
jar="$build_dir/quarkus-app/quarkus-run.jar"

if [ ! -f "$jar" ] || [ ! -d "$build_dir/test-classes/io/apigw/authorizer/bench" ] || [ -n "${REBUILD:-}" ] \
    || [ -n "$(find src pom.xml -newer "$jar" -type f -print -quit)" ]; then
  echo "building the worker and the benchmark into $build_dir (mvn package -DskipTests)..." >&2
  "${mvn_[@]}" package -DskipTests >&2
fi

# The default worker runs with the JVM options it is deployed with: the image's JAVA_OPTS_APPEND
# (src/main/docker/Dockerfile.jvm) and a heap of JAVA_MAX_MEM_RATIO=20% of the 512Mi limit (k8s/base/deployment.yaml).
export BENCH_DEFAULT="${BENCH_DEFAULT:--Xmx102m,-XX:+UseSerialGC,-XX:TieredStopAtLevel=1}"
# As the image sets it; every process the benchmark starts (worker variants and the harness) inherits it.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

cp_file="$build_dir/test-classpath.txt"
if [ ! -s "$cp_file" ] || [ pom.xml -nt "$cp_file" ]; then
  "${mvn_[@]}" dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
fi

if [ -n "${BENCH_JFR:-}" ]; then
  mkdir -p "$BENCH_JFR"
  export BENCH_JFR="$(cd "$BENCH_JFR" && pwd)"
fi

log="$build_dir/bench-$(date +%Y%m%d-%H%M%S).log"
echo "output: $log" >&2
{
  echo "== source: $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "(uncommitted changes under src/main: $(git status --short -- src/main pom.xml 2>/dev/null | wc -l) files)"
  echo "   machine: $(nproc) cores; $(free -h | awk '/^Mem:/ {print $2 " RAM, " $7 " available"}');" \
    "$(java -version 2>&1 | sed -n 1p); load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$log"
java -Xmx4g -Xss512k \
  -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
  -Dworker.jar="$jar" \
  -cp "$build_dir/test-classes:${BENCH_CLASSES:-$build_dir/classes}:$(cat "$cp_file")" \
  "io.apigw.authorizer.bench.${BENCH_MAIN:-FleetBenchmark}" "$@" 2>&1 | tee -a "$log"
exit "${PIPESTATUS[0]}"
