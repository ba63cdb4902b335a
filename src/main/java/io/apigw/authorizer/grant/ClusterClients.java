package io.apigw.authorizer.grant;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.directory.ClusterAccess;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx.VertxHttpClientFactory;
import io.vertx.core.Vertx;

/**
 * Opens a client to a target cluster with every call bounded, on the application's shared Vert.x (no event loop
 * per cluster). The client's own retries are off: the worker retries whole attempts and counts them.
 */
@ApplicationScoped
public class ClusterClients {

    private final VertxHttpClientFactory httpClients;
    private final AuthorizerConfig.Kube limits;

    public ClusterClients(Vertx vertx, AuthorizerConfig config) {
        this.httpClients = new VertxHttpClientFactory(vertx);
        this.limits = config.kube();
    }

    public KubernetesClient open(ClusterAccess access) {
        Config config = access.clientConfig();
        config.setConnectionTimeout((int) limits.connectTimeout().toMillis());
        config.setRequestTimeout((int) limits.requestTimeout().toMillis());
        config.setRequestRetryBackoffLimit(0);
        config.setWatchReconnectLimit(0);
        return new KubernetesClientBuilder().withConfig(config).withHttpClientFactory(httpClients).build();
    }
}
