package io.apigw.authorizer.directory.tke;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import io.apigw.authorizer.directory.ClusterAccess;
import io.fabric8.kubernetes.client.Config;

/**
 * What the TKE API says about one cluster's private API server: its URL, its CA and an admin credential. Kept
 * immutable (and cached as such); every {@link #access} gets a fresh client config, since callers adjust theirs.
 */
record PrivateEndpoint(String server, String caPem, AdminCredential admin) {

    ClusterAccess access(String clusterId) {
        Config config = Config.empty();
        config.setMasterUrl(server);
        // Trust exactly the cluster's own CA, and check that the certificate names the address we dial.
        config.setCaCertData(Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.UTF_8)));
        config.setTrustCerts(false);
        config.setDisableHostnameVerification(false);
        admin.applyTo(config);
        return new ClusterAccess(clusterId, server, caPem, config);
    }

    @Override
    public String toString() {
        return "PrivateEndpoint[" + server + "]";
    }
}
