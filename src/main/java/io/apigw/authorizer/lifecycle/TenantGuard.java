package io.apigw.authorizer.lifecycle;

import java.util.Optional;

import org.jboss.logging.Logger;

import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.Tenant;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;

/** A stored credential belongs to its tenant (issue 26, G1): every use case reads the record through here. */
final class TenantGuard {

    private static final Logger LOG = Logger.getLogger(TenantGuard.class);

    private TenantGuard() {
    }

    /**
     * The stored credential, when the request's tenant may act on it. Another tenant's is answered as a cluster that
     * does not exist ({@code CLUSTER_NOT_FOUND}, not retryable), so the request learns nothing of it and changes
     * nothing; a credential that records no tenant is the directory's to vouch for (it found the cluster).
     */
    static Optional<CredentialRecord> ownRecord(AuthorizationRequest request, Optional<CredentialRecord> record) {
        if (record.isPresent() && record.get().tenant().owns(tenant(request)) == Tenant.Standing.OTHER) {
            LOG.warnf("request %s: the stored credential of cluster %s is recorded for another tenant; nothing was "
                    + "read or changed", request.requestId(), request.clusterId());
            throw AuthorizationException.permanent(FailureCode.CLUSTER_NOT_FOUND, "cluster " + request.clusterId()
                    + " was not found for this tenant");
        }
        return record;
    }

    /**
     * A deauthorize of a cluster the directory cannot find removes the stored credential only when it is the
     * request's own tenant's ({@link Tenant#removableWithoutDirectory}); otherwise it is answered as the directory
     * answered, and nothing is removed.
     */
    static void requireRemovableWithoutDirectory(AuthorizationRequest request, Optional<CredentialRecord> record,
            boolean directoryKnowsTenants, AuthorizationException asTheDirectoryAnswered) {
        if (record.isPresent()
                && !record.get().tenant().removableWithoutDirectory(tenant(request), directoryKnowsTenants)) {
            LOG.warnf("request %s: a deauthorize of cluster %s, which the directory cannot find for the request's "
                    + "tenant, left the stored credential alone: it is recorded for %s", request.requestId(),
                    request.clusterId(), record.get().tenant().owns(tenant(request)) == Tenant.Standing.OTHER
                            ? "another tenant" : "no tenant");
            throw asTheDirectoryAnswered;
        }
    }

    private static Tenant tenant(AuthorizationRequest request) {
        return new Tenant(request.appId(), request.ownerUin());
    }
}
