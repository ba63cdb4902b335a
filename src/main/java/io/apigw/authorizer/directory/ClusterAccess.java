package io.apigw.authorizer.directory;

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

    @Override
    public String toString() {
        return "ClusterAccess[" + clusterId + " at " + server + "]";
    }
}
