package io.apigw.authorizer.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;

/** The monitoring as shipped: the PrometheusRule's alerts, the dashboard's queries, and the metric names they use. */
final class Monitoring {

    static final Path RULES = Path.of("k8s/base/monitoring/prometheusrule.yaml");
    static final Path DASHBOARD = Path.of("k8s/base/monitoring/grafana-dashboard.json");
    static final Path RULE_TESTS = Path.of("src/test/resources/monitoring/alerts.test.yaml");

    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without", "on",
            "ignoring", "group_left", "group_right", "inf", "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    private Monitoring() {
    }

    static JsonNode prometheusRule() {
        try {
            return Kustomize.parse(Files.readString(Repo.root().resolve(RULES))).get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<JsonNode> alerts() {
        List<JsonNode> alerts = new ArrayList<>();
        for (JsonNode group : prometheusRule().at("/spec/groups")) {
            group.path("rules").forEach(r -> {
                if (r.has("alert")) {
                    alerts.add(r);
                }
            });
        }
        return alerts;
    }

    /** Every PromQL expression: the alerts' and the dashboard panels'. */
    static List<String> expressions() {
        List<String> exprs = new ArrayList<>();
        alerts().forEach(a -> exprs.add(a.path("expr").asText()));
        try {
            JsonNode dashboard = new ObjectMapper().readTree(Repo.root().resolve(DASHBOARD).toFile());
            for (JsonNode panel : dashboard.path("panels")) {
                panel.path("targets").forEach(t -> exprs.add(t.path("expr").asText()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return exprs;
    }

    /**
     * The metric names a PromQL expression selects: what remains once strings, label matchers, ranges, grouping
     * clauses, function calls and keywords are taken out.
     */
    static Set<String> metricNames(String expr) {
        String bare = expr.replaceAll("\"(?:\\\\.|[^\"\\\\])*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(bare);
        while (m.find()) {
            String rest = bare.substring(m.end()).stripLeading();
            boolean function = rest.startsWith("(");
            boolean number = m.start() > 0 && Character.isDigit(bare.charAt(m.start() - 1));
            if (!function && !number && !KEYWORDS.contains(m.group().toLowerCase(Locale.ROOT))) {
                names.add(m.group());
            }
        }
        return names;
    }
}
