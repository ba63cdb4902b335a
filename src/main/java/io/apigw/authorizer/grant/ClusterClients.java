package io.apigw.authorizer.grant;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.directory.ClusterAccess;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import io.apigw.authorizer.credential.StoredCredential;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
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
        return open(access.clientConfig());
    }

    /** A client that acts as the gateway would, with the stored credential. */
    public KubernetesClient openAs(StoredCredential credential) {
        ConfigBuilder config = new ConfigBuilder(Config.empty()).withMasterUrl(credential.server())
                .withOauthToken(credential.token().reveal());
        if (!credential.caPem().isBlank()) {
            config.withCaCertData(Base64.getEncoder().encodeToString(credential.caPem().getBytes(StandardCharsets.UTF_8)));
        }
        return open(config.build());
    }

    private KubernetesClient open(Config config) {
        config.setConnectionTimeout((int) limits.connectTimeout().toMillis());
        config.setRequestTimeout((int) limits.requestTimeout().toMillis());
        config.setRequestRetryBackoffLimit(0);
        config.setWatchReconnectLimit(0);
        return new KubernetesClientBuilder().withConfig(config).withHttpClientFactory(httpClients).build();
    }
}
