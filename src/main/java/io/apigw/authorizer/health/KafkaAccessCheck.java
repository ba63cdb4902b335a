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

import io.quarkus.arc.properties.IfBuildProperty;
import io.smallrye.common.annotation.Identifier;

/**
 * Ready only if the worker's Kafka principal may do its work: READ the request topic and the consumer group, WRITE
 * results and dead letters. Kafka's own client retries an authorization failure forever without failing a health
 * check, so a principal without its ACLs would otherwise look ready while it consumes nothing. The broker answers
 * with the operations this principal is allowed ({@code includeAuthorizedOperations}); a broker without an authorizer
 * allows everything.
 */
@Readiness
@ApplicationScoped
@IfBuildProperty(name = "quarkus.kafka.health.enabled", stringValue = "true")
public class KafkaAccessCheck implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(KafkaAccessCheck.class);
    /** Below the readiness probe's 3 s timeout. */
    private static final int TIMEOUT_MS = 2_000;

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
        HealthCheckResponseBuilder response = HealthCheckResponse.named("kafka-access");
        try {
            var described = admin.describeTopics(topics.keySet(), new DescribeTopicsOptions()
                    .includeAuthorizedOperations(true).timeoutMs(TIMEOUT_MS)).topicNameValues();
            for (var t : topics.entrySet()) {
                try {
                    check(described.get(t.getKey()).get(TIMEOUT_MS, TimeUnit.MILLISECONDS).authorizedOperations(),
                            t.getValue(), "topic " + t.getKey(), missing);
                } catch (ExecutionException e) {
                    missing.add(refusal(e.getCause(), t.getValue(), "topic " + t.getKey()));
                }
            }
            try {
                check(admin.describeConsumerGroups(List.of(group), new DescribeConsumerGroupsOptions()
                        .includeAuthorizedOperations(true).timeoutMs(TIMEOUT_MS)).describedGroups().get(group)
                        .get(TIMEOUT_MS, TimeUnit.MILLISECONDS).authorizedOperations(), AclOperation.READ,
                        "group " + group, missing);
            } catch (ExecutionException e) {
                // A group nobody has joined yet may not exist: Describe was allowed, and joining will tell about READ.
                if (!(e.getCause() instanceof GroupIdNotFoundException)) {
                    missing.add(refusal(e.getCause(), AclOperation.READ, "group " + group));
                }
            }
        } catch (TimeoutException e) {
            return report(response.down(), "Kafka did not answer within " + TIMEOUT_MS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return response.down().build();
        }
        if (missing.isEmpty()) {
            return report(response.up(), "");
        }
        return report(response.down().withData("missing", String.join(", ", missing)),
                "the principal lacks " + String.join(", ", missing)
                        + ": grant the ACLs of k8s/overlays/prod/kafkauser.yaml");
    }

    private static void check(Set<AclOperation> allowed, AclOperation needed, String resource, List<String> missing) {
        // null: the broker has no authorizer, everything is allowed.
        if (allowed != null && !allowed.contains(needed)) {
            missing.add(needed + " on " + resource);
        }
    }

    private static String refusal(Throwable cause, AclOperation needed, String resource) {
        if (cause instanceof AuthorizationException) {
            return needed + " on " + resource;
        }
        if (cause instanceof UnknownTopicOrPartitionException) {
            return resource + " (no such topic)";
        }
        return resource + ": " + cause.getClass().getSimpleName();
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
