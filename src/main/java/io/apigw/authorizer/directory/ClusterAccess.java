package io.apigw.authorizer.directory;

import io.fabric8.kubernetes.client.Config;

/**
 * How to reach one cluster's API server over its private endpoint with admin rights.
 *
 * @param server the API server URL
 * @param caPem the cluster CA (PEM); empty when the kubeconfig trusts the system CAs
 * @param clientConfig the admin connection (holds credentials: never log it)
 */
public record ClusterAccess(String clusterId, String server, String caPem, Config clientConfig) {

    @Override
    public String toString() {
        return "ClusterAccess[" + clusterId + " at " + server + "]";
    }
}
