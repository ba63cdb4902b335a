package io.apigw.authorizer.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.util.Locale;

/**
 * The PrometheusRule checked by Prometheus's own {@code promtool}: the rules load ({@code check rules}) and every alert
 * fires and stays quiet as its unit tests say ({@code test rules}). Without promtool (Debian package
 * {@code prometheus}) this is skipped locally and fails on CI.
 */
class MonitoringRulesTest {

    static Path promtool;

    @BeforeAll
    static void findPromtool() {
        String path = System.getenv("PATH") == null ? "" : System.getenv("PATH");
        Optional<Path> found = Stream.concat(Stream.of("/usr/bin"), Stream.of(path.split(File.pathSeparator)))
                .filter(d -> !d.isBlank()).map(d -> Path.of(d, "promtool")).filter(Files::isExecutable).findFirst();
        if (found.isEmpty() && "true".equals(System.getenv("CI"))) {
            fail("promtool not found: install Debian's `prometheus` package (.ci/run does)");
        }
        assumeTrue(found.isPresent(), "promtool not found (apt-get install prometheus): the alert rules were not run");
        promtool = found.get();
    }

    @Test
    void promtoolLoadsTheRulesAndEveryAlertPassesItsUnitTests() throws Exception {
        Path dir = Files.createTempDirectory("promtool");
        // promtool reads plain rule files: the PrometheusRule's spec is exactly one.
        Kustomize.YAML.writeValue(dir.resolve("rules.yaml").toFile(), Monitoring.prometheusRule().path("spec"));
        Files.copy(Repo.root().resolve(Monitoring.RULE_TESTS), dir.resolve("alerts.test.yaml"));

        String check = promtool(dir, "check", "rules", "rules.yaml");
        assertThat(check).contains("SUCCESS: " + Monitoring.alerts().size() + " rules found");
        assertThat(promtool(dir, "test", "rules", "alerts.test.yaml")).contains("SUCCESS");
    }

    @Test
    void everyAlertHasACaseThatFiresACaseThatStaysQuietAndARunbookSection() throws IOException {
        JsonNode tests = Kustomize.YAML.readTree(Repo.root().resolve(Monitoring.RULE_TESTS).toFile());
        Set<String> fires = new TreeSet<>();
        Set<String> quiet = new TreeSet<>();
        for (JsonNode test : tests.path("tests")) {
            for (JsonNode t : test.path("alert_rule_test")) {
                (t.path("exp_alerts").isEmpty() ? quiet : fires).add(t.path("alertname").asText());
            }
        }
        Set<String> alerts = Monitoring.alerts().stream().map(a -> a.path("alert").asText())
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(alerts).hasSizeGreaterThanOrEqualTo(7);
        assertThat(fires).as("alerts with a case that fires").isEqualTo(alerts);
        assertThat(quiet).as("alerts with a case that stays quiet").isEqualTo(alerts);

        String runbook = Files.readString(Repo.root().resolve("docs/runbook.md"));
        List<String> missing = new ArrayList<>();
        for (JsonNode a : Monitoring.alerts()) {
            String name = a.path("alert").asText();
            assertThat(a.at("/labels/severity").asText()).as(name).isIn("critical", "warning");
            assertThat(a.at("/annotations/runbook").asText()).as(name)
                    .isEqualTo("docs/runbook.md#" + name.toLowerCase(Locale.ROOT));
            if (!runbook.contains("\n### " + name + "\n")) {
                missing.add(name);
            }
        }
        assertThat(missing).as("alerts without a `### <alert>` section in docs/runbook.md").isEmpty();
    }

    @Test
    void theMetricNameExtractorSeesThroughPromQl() {
        assertThat(Monitoring.metricNames("sum by (code) (rate(a_total{outcome=\"Failed\", code!=\"x\"}[10m])) "
                + "/ ignoring (code) group_left sum(rate(b_total[$__rate_interval])) > 0.2 and on () c >= 20"))
                .containsExactly("a_total", "b_total", "c");
        assertThat(Monitoring.metricNames("histogram_quantile(0.99, sum by (le) (rate(d_bucket[5m]))) > 1e3"))
                .containsExactly("d_bucket");
    }

    private static String promtool(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(promtool.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("promtool", ".out");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("promtool " + String.join(" ", args) + " did not finish in 60 s");
        }
        String text = Files.readString(out);
        assertThat(p.exitValue()).as("promtool %s:%n%s", String.join(" ", args), text).isZero();
        return text;
    }
}
