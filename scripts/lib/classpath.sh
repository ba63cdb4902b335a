# The test classpath (embedded broker, Kafka clients, dev tools), computed once per pom change.
test_classpath() {
  local cp=target/test-classpath.txt
  if [ ! -d target/test-classes/io/apigw/authorizer/devtools ]; then
    mvn -q -B test-compile >&2
  fi
  if [ ! -s "$cp" ] || [ pom.xml -nt "$cp" ]; then
    mvn -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp" >&2
  fi
  echo "target/test-classes:$(cat "$cp")"
}
