package io.apigw.authorizer.credential;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Keeps the gateway's credential for each authorized cluster as a Secret {@code apigw-cluster-<clusterId>} (keys
 * {@code server}, {@code ca.crt}, {@code token}) in the worker's own cluster. Writes only when something changed.
 */
@ApplicationScoped
public class CredentialStore {

    private static final Logger LOG = Logger.getLogger(CredentialStore.class);
    public static final String NAME_PREFIX = "apigw-cluster-";
    public static final String CLUSTER_ID_LABEL = "apigw.tencent.com/cluster-id";
    public static final String TOKEN_SECRET_ANNOTATION = "apigw.tencent.com/token-secret";

    private final KubernetesClient ownCluster;
    private final String namespace;

    public CredentialStore(KubernetesClient ownCluster, AuthorizerConfig config) {
        this.ownCluster = ownCluster;
        this.namespace = config.credentials().namespace();
    }

    /** @return the credential reference {@code <namespace>/<name>} */
    public String save(String clusterId, String server, String caPem, Token token, String tokenSecret) {
        String name = NAME_PREFIX + clusterId;
        Map<String, String> data = new LinkedHashMap<>();
        data.put("server", b64(server.getBytes(StandardCharsets.UTF_8)));
        data.put("ca.crt", b64(caPem.getBytes(StandardCharsets.UTF_8)));
        data.put("token", b64(token.bytes()));
        try {
            Secret existing = ownCluster.secrets().inNamespace(namespace).withName(name).get();
            if (existing == null) {
                ownCluster.secrets().inNamespace(namespace).resource(new SecretBuilder()
                        .withNewMetadata().withNamespace(namespace).withName(name)
                        .addToLabels("app.kubernetes.io/managed-by", "apigw-tke-authorizer")
                        .addToLabels(CLUSTER_ID_LABEL, clusterId)
                        .addToAnnotations(TOKEN_SECRET_ANNOTATION, tokenSecret)
                        .endMetadata()
                        .withType("Opaque").withData(data).build()).create();
            } else if (!data.equals(existing.getData())
                    || !tokenSecret.equals(existing.getMetadata().getAnnotations() == null ? null
                            : existing.getMetadata().getAnnotations().get(TOKEN_SECRET_ANNOTATION))) {
                ownCluster.secrets().inNamespace(namespace).resource(new SecretBuilder(existing)
                        .editMetadata().addToAnnotations(TOKEN_SECRET_ANNOTATION, tokenSecret).endMetadata()
                        .withData(data).withStringData(null).build()).update();
            }
            return namespace + "/" + name;
        } catch (KubernetesClientException e) {
            LOG.warnf("credential store: saving %s/%s failed with HTTP %d", namespace, name, e.getCode());
            if (e.getCode() == 404) {
                throw new AuthorizationException(FailureCode.INTERNAL, "the credential namespace " + namespace
                        + " does not exist in the gateway's cluster", false);
            }
            // 409 (a concurrent writer) and outages of our own cluster are worth another attempt.
            throw new AuthorizationException(FailureCode.INTERNAL,
                    "the credential could not be stored in the gateway's cluster (HTTP " + e.getCode() + ")",
                    e.getCode() == 0 || e.getCode() == 409 || e.getCode() == 429 || e.getCode() >= 500);
        }
    }

    /** The stored credential of a cluster, if there is one. */
    public Optional<StoredCredential> load(String clusterId) {
        Secret s = ownCluster("reading the stored credential",
                () -> ownCluster.secrets().inNamespace(namespace).withName(NAME_PREFIX + clusterId).get());
        if (s == null || s.getData() == null || s.getData().get("token") == null) {
            return Optional.empty();
        }
        Base64.Decoder d = Base64.getDecoder();
        return Optional.of(new StoredCredential(
                new String(d.decode(s.getData().getOrDefault("server", "")), StandardCharsets.UTF_8),
                new String(d.decode(s.getData().getOrDefault("ca.crt", "")), StandardCharsets.UTF_8),
                Token.of(d.decode(s.getData().get("token")))));
    }

    /** @return whether there was a credential to delete */
    public boolean delete(String clusterId) {
        return !ownCluster("deleting the stored credential",
                () -> ownCluster.secrets().inNamespace(namespace).withName(NAME_PREFIX + clusterId).delete()).isEmpty();
    }

    public String reference(String clusterId) {
        return namespace + "/" + NAME_PREFIX + clusterId;
    }

    private <T> T ownCluster(String during, java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (KubernetesClientException e) {
            LOG.warnf("credential store: %s failed with HTTP %d", during, e.getCode());
            throw new AuthorizationException(FailureCode.INTERNAL,
                    "the gateway's cluster did not answer while " + during + " (HTTP " + e.getCode() + ")",
                    e.getCode() <= 0 || e.getCode() == 429 || e.getCode() >= 500);
        }
    }

    /** Whether the worker's own cluster answers for the credential namespace; used by the readiness check. */
    public boolean reachable() {
        try {
            ownCluster.secrets().inNamespace(namespace).withLabel(CLUSTER_ID_LABEL).list(
                    new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withLimit(1L).build());
            return true;
        } catch (KubernetesClientException e) {
            return false;
        }
    }

    public String namespace() {
        return namespace;
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
