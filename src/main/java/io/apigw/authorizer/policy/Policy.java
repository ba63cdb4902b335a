package io.apigw.authorizer.policy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;

/**
 * The reserved ClusterRole's rules ({@code apigw-ingress-clusterrole}) as a numbered version. A cluster keeps the version it was authorized with (it is
 * recorded on its ClusterRole and its stored credential) until a rollout moves it; only new clusters get the configured
 * {@code authorizer.policy.version} at once.
 */
public record Policy(int version, List<PolicyRule> rules) {

    /** The seed document's rules, verbatim: the default. */
    public static final Policy V1 = new Policy(1, List.of(
            rule(List.of(""), List.of("services", "namespaces", "endpoints", "nodes", "pods"), "get", "list", "watch"),
            rule(List.of("apps"), List.of("deployments", "replicasets"), "get", "list", "watch"),
            rule(List.of(""), List.of("configmaps", "secrets"), "*"),
            rule(List.of("extensions"), List.of("ingresses", "ingresses/status"), "*"),
            rule(List.of(""), List.of("events"), "create", "patch", "list", "update"),
            rule(List.of("apiextensions.k8s.io"), List.of("customresourcedefinitions"), "*"),
            rule(List.of("cloud.tencent.com"), List.of("tkeserviceconfigs"), "*")));

    /**
     * v1 and what the gateway needs on current Kubernetes: Ingress is served only as {@code networking.k8s.io} from
     * 1.22 on, and EndpointSlices ({@code discovery.k8s.io}) replace Endpoints for large services.
     */
    public static final Policy V2 = new Policy(2, Stream.concat(V1.rules().stream(), Stream.of(
            rule(List.of("networking.k8s.io"), List.of("ingresses", "ingresses/status"), "*"),
            rule(List.of("discovery.k8s.io"), List.of("endpointslices"), "get", "list", "watch"))).toList());

    private static final Map<Integer, Policy> KNOWN = Stream.of(V1, V2)
            .collect(Collectors.toUnmodifiableMap(Policy::version, Function.identity()));

    public static Optional<Policy> of(int version) {
        return Optional.ofNullable(KNOWN.get(version));
    }

    /** The configured {@code authorizer.policy.version}; one this worker does not know is a configuration error. */
    public static Policy configured(int version) {
        return of(version).orElseThrow(() -> new IllegalArgumentException("authorizer.policy.version=" + version
                + " is not a policy this worker knows; it knows " + versions()));
    }

    /** The versions this worker can apply, in order (for messages). */
    public static List<Integer> versions() {
        return KNOWN.keySet().stream().sorted().toList();
    }

    private static PolicyRule rule(List<String> apiGroups, List<String> resources, String... verbs) {
        return new PolicyRuleBuilder().withApiGroups(apiGroups).withResources(resources).withVerbs(verbs).build();
    }
}
