package io.apigw.authorizer.grant;

import static io.apigw.authorizer.grant.ReservedResources.NAMESPACE;

import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Which cluster answers behind an id or endpoint: the uid of its {@code kube-system} namespace, made once with the
 * cluster and never reused. Recorded with the stored credential at authorization and compared by every later request,
 * so that a cluster id deleted and reused, or an endpoint now pointing at another cluster, is never taken for the one
 * authorized.
 */
public final class ClusterIdentity {

    private ClusterIdentity() {
    }

    /** The uid, or null when it cannot be known (an admin credential that may not read namespaces). */
    public static String read(KubernetesClient client) {
        try {
            Namespace ns = KubeErrors.call(client, "reading namespace " + NAMESPACE,
                    () -> client.namespaces().withName(NAMESPACE).get());
            return ns == null || ns.getMetadata() == null ? null : ns.getMetadata().getUid();
        } catch (AuthorizationException e) {
            if (e.code() == FailureCode.PERMISSION_DENIED) {
                return null;
            }
            throw e;
        }
    }

    /** Both known and different: another cluster answers than the one authorized. */
    public static boolean replaced(String recorded, String observed) {
        return recorded != null && observed != null && !recorded.equals(observed);
    }

    public static String describe(String clusterId, String recorded, String observed) {
        return "the cluster behind " + clusterId + " is not the one authorized: its " + NAMESPACE + " namespace uid is "
                + observed + ", the authorized cluster's was " + recorded + " (the cluster id was reused, or the "
                + "endpoint now leads to another cluster)";
    }
}
