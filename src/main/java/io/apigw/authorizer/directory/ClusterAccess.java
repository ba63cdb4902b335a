package io.apigw.authorizer.directory;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.client.Config;

/**
 * How to reach one cluster's API server over its private endpoint with admin rights.
 *
 * @param server the API server URL
 * @param caPem the cluster CA (PEM); empty when the kubeconfig trusts the system CAs
 * @param clientConfig the admin connection (holds credentials: never log it)
 * @param mintedPerLookup the credential is made anew at each lookup and may expire (a kubeconfig exec plugin or auth
 *        provider): a client made with it must not be kept for later requests
 */
public record ClusterAccess(String clusterId, String server, String caPem, Config clientConfig,
        boolean mintedPerLookup) {

    /** A credential that stays valid until it is changed in the directory. */
    public ClusterAccess(String clusterId, String server, String caPem, Config clientConfig) {
        this(clusterId, server, caPem, clientConfig, false);
    }

    /**
     * The refusal of an entry that would turn TLS verification off, raised before anything (the admin credential above
     * all) is sent. Not retryable, since only an operator's fix of the directory helps; CLUSTER_NOT_FOUND rather than
     * INVALID_REQUEST because the request is fine and it is the directory that has no usable entry for the cluster
     * (INVALID_REQUEST also means "nothing tried", attempts 0).
     */
    public static AuthorizationException tlsNotVerified(String what) {
        return AuthorizationException.permanent(FailureCode.CLUSTER_NOT_FOUND, what
                + "; TLS to an API server is always verified: remove it and give the cluster's CA "
                + "(certificate-authority-data)");
    }

    @Override
    public String toString() {
        return "ClusterAccess[" + clusterId + " at " + server + "]";
    }
}
