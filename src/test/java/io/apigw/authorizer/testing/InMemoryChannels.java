package io.apigw.authorizer.testing;

import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.smallrye.reactive.messaging.memory.InMemoryConnector;

/** Fast tier: the three channels in memory, clusters from the test kubeconfig that {@link TargetCluster} writes. */
public class InMemoryChannels implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>();
        config.putAll(InMemoryConnector.switchIncomingChannelsToInMemory("authorization-requests",
                "sweep-requests"));
        config.putAll(InMemoryConnector.switchOutgoingChannelsToInMemory("authorization-results",
                "authorization-dead-letters", "sweep-checks", "repair-requests"));
        config.put("authorizer.directory.kubeconfig.path", TargetCluster.kubeconfig().toString());
        return config;
    }

    @Override
    public void stop() {
        InMemoryConnector.clear();
    }
}
