package io.apigw.authorizer.testing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

/**
 * What the tests of packaged workers on a real broker share: the broker, a stand-in for the worker's own cluster, and
 * per test topics and a consumer group of its own; the workers and target clusters a test starts are stopped after
 * it.
 */
public abstract class PackagedWorkers {

    protected static KafkaBroker broker;
    protected static KubernetesMockServer ownCluster;
    protected final List<WorkerProcess> workers = new ArrayList<>();
    protected final List<TargetCluster> clusters = new ArrayList<>();
    protected KafkaClients kafka;
    protected final String suffix = UUID.randomUUID().toString().substring(0, 8);
    protected final String requests = "req-" + suffix;
    protected final String results = "res-" + suffix;
    protected final String deadLetters = "dlq-" + suffix;

    @BeforeAll
    static void startInfrastructure() {
        broker = KafkaBroker.start(FreePort.closed(), 4);
        ownCluster = ownClusterStandIn();
    }

    @AfterAll
    static void stopInfrastructure() {
        ownCluster.destroy();
        broker.close();
    }

    @BeforeEach
    void createTopics() {
        broker.createTopics(requests, results, deadLetters, 4);
        kafka = new KafkaClients(broker.bootstrapServers());
    }

    @AfterEach
    void stopWorkersAndClusters() {
        workers.forEach(WorkerProcess::close);
        clusters.forEach(TargetCluster::close);
        if (kafka != null) {
            kafka.close();
        }
    }

    /** A worker's own cluster, where it keeps credentials: the fabric8 mock API server, CRUD mode, plain HTTP. */
    protected static KubernetesMockServer ownClusterStandIn() {
        KubernetesMockServer own = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        own.init();
        return own;
    }

    /**
     * A packaged worker's configuration on these parts: the test's topics and group, the {@link TargetCluster}
     * directory, concurrency 4 and no sweep (a sweep check reads each cluster's /version too, which the tests count
     * as authorizations).
     */
    protected Map<String, String> config() {
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", broker.bootstrapServers());
        config.put("authorizer.directory.kubeconfig.path", TargetCluster.kubeconfig().toString());
        config.put("quarkus.kubernetes-client.api-server-url", ownCluster.url("/"));
        config.put("quarkus.kubernetes-client.token", "own-cluster-token");
        config.put("authorizer.concurrency", "4");
        config.put("authorizer.sweep.interval", "0");
        config.put("mp.messaging.incoming.authorization-requests.topic", requests);
        config.put("mp.messaging.incoming.authorization-requests.group.id", "group-" + suffix);
        config.put("mp.messaging.outgoing.authorization-results.topic", results);
        config.put("mp.messaging.outgoing.authorization-dead-letters.topic", deadLetters);
        return config;
    }
}
