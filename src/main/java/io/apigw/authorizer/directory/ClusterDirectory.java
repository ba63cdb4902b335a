package io.apigw.authorizer.directory;

import io.apigw.authorizer.request.AuthorizationRequest;

/** Finds a cluster and the way to its private API server endpoint. */
public interface ClusterDirectory {

    /**
     * @throws PrivateAccessDisabledException when the cluster's private endpoint is not enabled
     * @throws io.apigw.authorizer.result.AuthorizationException with {@code CLUSTER_NOT_FOUND} or another code
     */
    ClusterAccess resolve(AuthorizationRequest request);

    /**
     * Whether clusters belong to tenants told apart by the request's appId and owner uin (the tke directory), so that
     * a cluster it cannot find may be another tenant's; one kubeconfig is one operator's.
     */
    default boolean knowsTenants() {
        return false;
    }

    /** Whether the directory can answer now (readiness); a remote directory is not called just to find out. */
    default boolean ready() {
        return true;
    }
}
