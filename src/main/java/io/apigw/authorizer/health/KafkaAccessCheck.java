package io.apigw.authorizer.health;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import io.quarkus.arc.profile.UnlessBuildProfile;
import io.smallrye.common.annotation.Identifier;

/**
 * Ready only if the worker's Kafka principal may do its work: READ the request topic and the consumer group, WRITE
 * results and dead letters. Kafka's own client retries an authorization failure forever without failing a health
 * check, so a principal without its ACLs would otherwise look ready while it consumes nothing. The broker answers
 * with the operations this principal is allowed ({@code includeAuthorizedOperations}); a broker without an authorizer
 * allows everything.
 *
 * <p>It is also the readiness check of the broker's reachability: Quarkus's own Kafka check is off
 * ({@code quarkus.kafka.health.enabled=false}) because it waits for the broker without a bound, up to the admin
 * client's 60 s, and its admin client's close waits for such a call, so a SIGTERM with the broker gone outlasted the
 * pod's grace. The in-memory channels of the fast tests have no broker to ask: off in the test profile.
 */
@Readiness
@ApplicationScoped
@UnlessBuildProfile("test")
public class KafkaAccessCheck implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(KafkaAccessCheck.class);
    /** Below the readiness probe's 3 s timeout. */
    private static final int TIMEOUT_MS = 2_000;
    private static final String NO_ANSWER = "Kafka did not answer within " + TIMEOUT_MS + " ms";

    private final Admin admin;
    private final Map<String, AclOperation> topics = new LinkedHashMap<>();
    private final String group;
    private volatile String lastProblem = "";

    @Inject
    public KafkaAccessCheck(@Identifier("default-kafka-broker") Map<String, Object> kafka,
            @ConfigProperty(name = "mp.messaging.incoming.authorization-requests.topic") String requests,
            @ConfigProperty(name = "mp.messaging.incoming.authorization-requests.group.id") String group,
            @ConfigProperty(name = "mp.messaging.outgoing.authorization-results.topic") String results,
            @ConfigProperty(name = "mp.messaging.outgoing.authorization-dead-letters.topic") String deadLetters) {
        Map<String, Object> config = new HashMap<>();
        kafka.forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) {
                config.put(k, v);
            }
        });
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka-admin-access-check");
        this.admin = Admin.create(config);
        this.group = group;
        topics.put(requests, AclOperation.READ);
        topics.put(results, AclOperation.WRITE);
        topics.put(deadLetters, AclOperation.WRITE);
    }

    @Override
    public HealthCheckResponse call() {
        List<String> missing = new ArrayList<>();
        List<String> unchecked = new ArrayList<>();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("kafka-access");
        // One bound for the whole check, below the probe's timeout: each wait gets what is left of it.
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        try {
            checkTopics(deadline, missing, unchecked);
            if (!unchecked.contains(NO_ANSWER)) {
                checkGroup(deadline, missing, unchecked);
            }
        } catch (TimeoutException e) {
            unchecked.add(NO_ANSWER);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return response.down().build();
        }
        List<String> problems = new ArrayList<>();
        if (!missing.isEmpty()) {
            response.withData("missing", String.join(", ", missing));
            problems.add("the principal lacks " + String.join(", ", missing)
                    + ": grant the ACLs of k8s/overlays/prod/kafkauser.yaml");
        }
        if (!unchecked.isEmpty()) {
            response.withData("unchecked", String.join(", ", unchecked));
            problems.add("could not check " + String.join(", ", unchecked));
        }
        return report(problems.isEmpty() ? response.up() : response.down(), String.join("; ", problems));
    }

    private void checkTopics(long deadline, List<String> missing, List<String> unchecked)
            throws InterruptedException, TimeoutException {
        var described = admin.describeTopics(topics.keySet(), new DescribeTopicsOptions()
                .includeAuthorizedOperations(true).timeoutMs(TIMEOUT_MS)).topicNameValues();
        for (var t : topics.entrySet()) {
            String resource = "topic " + t.getKey();
            try {
                check(described.get(t.getKey()).get(left(deadline), TimeUnit.MILLISECONDS).authorizedOperations(),
                        t.getValue(), resource, missing);
            } catch (ExecutionException e) {
                sort(e.getCause(), t.getValue(), resource, missing, unchecked);
            }
        }
    }

    private void checkGroup(long deadline, List<String> missing, List<String> unchecked)
            throws InterruptedException, TimeoutException {
        String resource = "group " + group;
        try {
            check(admin.describeConsumerGroups(List.of(group), new DescribeConsumerGroupsOptions()
                    .includeAuthorizedOperations(true).timeoutMs((int) left(deadline))).describedGroups()
                    .get(group).get(left(deadline), TimeUnit.MILLISECONDS).authorizedOperations(),
                    AclOperation.READ, resource, missing);
        } catch (ExecutionException e) {
            // A group nobody has joined yet does not exist: Describe was allowed, and READ is checked once the
            // consumer has joined it. (Describe without Read would keep the group from ever existing: not seen.)
            if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                sort(e.getCause(), AclOperation.READ, resource, missing, unchecked);
            }
        }
    }

    /** Milliseconds left until {@code deadline}; at least 1, so that a wait past it times out at once. */
    private static long left(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    private static void check(Set<AclOperation> allowed, AclOperation needed, String resource, List<String> missing) {
        // null: the broker has no authorizer, everything is allowed.
        if (allowed != null && !allowed.contains(needed)) {
            missing.add(needed + " on " + resource);
        }
    }

    /** A refusal means a missing ACL; anything else (no such topic, a timeout) leaves the question open. */
    private static void sort(Throwable cause, AclOperation needed, String resource, List<String> missing,
            List<String> unchecked) {
        if (cause instanceof AuthorizationException) {
            missing.add(needed + " on " + resource);
        } else if (cause instanceof org.apache.kafka.common.errors.TimeoutException) { // not java.util.concurrent's
            if (!unchecked.contains(NO_ANSWER)) {
                unchecked.add(NO_ANSWER);
            }
        } else if (cause instanceof UnknownTopicOrPartitionException) {
            unchecked.add(resource + " (no such topic)");
        } else {
            unchecked.add(resource + " (" + cause.getClass().getSimpleName() + ")");
        }
    }

    /** Logs a problem once when it appears or changes, not at every probe. */
    private HealthCheckResponse report(HealthCheckResponseBuilder response, String problem) {
        if (!problem.equals(lastProblem)) {
            if (problem.isEmpty()) {
                LOG.info("Kafka access: the principal may read the requests and write results and dead letters");
            } else {
                LOG.errorf("Kafka access: %s", problem);
            }
            lastProblem = problem;
        }
        return response.build();
    }

    @PreDestroy
    void close() {
        // Bounded: with the broker gone, an unbounded close would wait for calls that can never finish.
        admin.close(Duration.ofMillis(TIMEOUT_MS));
    }
}
