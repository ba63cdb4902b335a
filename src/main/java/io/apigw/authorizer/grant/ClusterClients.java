package io.apigw.authorizer.grant;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.directory.ClusterAccess;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Base64;

import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.internal.SSLUtils;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
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

    /** One Jackson mapper for all target clients: a mapper per client rebuilt its (de)serializers every request. */
    private final KubernetesSerialization serialization;
    private final ExecutorService tasks = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "kube-client-tasks");
        t.setDaemon(true);
        return t;
    });

    public ClusterClients(Vertx vertx, AuthorizerConfig config, KubernetesSerialization serialization) {
        this.httpClients = new VertxHttpClientFactory(vertx);
        this.limits = config.kube();
        this.serialization = serialization;
    }

    public KubernetesClient open(ClusterAccess access) {
        return open(access.clientConfig(), access.caPem());
    }

    /** A client that acts as the gateway would, with the stored credential. */
    public KubernetesClient openAs(StoredCredential credential) {
        ConfigBuilder config = new ConfigBuilder(Config.empty()).withMasterUrl(credential.server())
                .withOauthToken(credential.token().reveal());
        if (!credential.caPem().isBlank()) {
            config.withCaCertData(Base64.getEncoder().encodeToString(credential.caPem().getBytes(StandardCharsets.UTF_8)));
        }
        return open(config.build(), credential.caPem());
    }

    private KubernetesClient open(Config config, String caPem) {
        config.setConnectionTimeout((int) limits.connectTimeout().toMillis());
        config.setRequestTimeout((int) limits.requestTimeout().toMillis());
        config.setRequestRetryBackoffLimit(0);
        config.setWatchReconnectLimit(0);
        KubernetesClientBuilder builder = new KubernetesClientBuilder().withConfig(config)
                .withHttpClientFactory(httpClients).withKubernetesSerialization(serialization).withTaskExecutor(tasks);
        if (!caPem.isBlank()) {
            // fabric8 adds the cluster CA to the JVM's default trust store; a cluster's API server must present a
            // certificate of its own CA and of nothing else.
            TrustManager[] pinned = trustOnly(caPem);
            KeyManager[] clientCertificate = keyManagers(config);
            builder.withHttpClientBuilderConsumer(b -> b.sslContext(clientCertificate, pinned));
        }
        return builder.build();
    }

    private static TrustManager[] trustOnly(String caPem) {
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate ca : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.UTF_8)))) {
                store.setCertificateEntry("cluster-ca-" + i++, ca);
            }
            if (i == 0) {
                throw new CertificateException("no certificate in the cluster CA");
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory.getTrustManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw AuthorizationException.permanent(FailureCode.INTERNAL,
                    "the cluster CA cannot be used: " + e.getClass().getSimpleName());
        }
    }

    private static KeyManager[] keyManagers(Config config) {
        try {
            return SSLUtils.keyManagers(config);
        } catch (GeneralSecurityException | IOException e) {
            throw AuthorizationException.permanent(FailureCode.INTERNAL,
                    "the admin client certificate cannot be used: " + e.getClass().getSimpleName());
        }
    }
}
