package io.apigw.authorizer.testing;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** Delivery tier: the worker on a real broker, clusters from the test kubeconfig. */
public class RealKafka implements QuarkusTestResourceLifecycleManager {

    public static KafkaBroker broker;

    @Override
    public Map<String, String> start() {
        broker = KafkaBroker.start(FreePort.closed(), 4);
        // Tracing on, exporting nowhere: the trace context must still flow from request to result.
        return Map.of("kafka.bootstrap.servers", broker.bootstrapServers(),
                "authorizer.directory.kubeconfig.path", TargetCluster.kubeconfig().toString(),
                "quarkus.otel.sdk.disabled", "false",
                "quarkus.otel.traces.exporter", "none");
    }

    @Override
    public void stop() {
        if (broker != null) {
            broker.close();
        }
    }
}
