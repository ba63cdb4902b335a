package io.apigw.authorizer.credential;

import java.util.Optional;

/**
 * Whose a stored credential is: the appId and owner uin of the request that stored it, as recorded beside it. A
 * cluster id alone proves nothing (TKE ids are seen in consoles, tickets and logs), so every request that reads,
 * replaces, rotates, revokes or deletes a stored credential first asks {@link #owns} of the recorded tenant.
 */
public record Tenant(Optional<String> appId, Optional<String> ownerUin) {

    public static final Tenant NONE = new Tenant(Optional.empty(), Optional.empty());

    /** How a request's tenant stands to the one recorded on a credential. */
    public enum Standing {
        /** Every recorded part is the request's. */
        SAME,
        /** A recorded part is not the request's: the credential is another tenant's. */
        OTHER,
        /** Nothing is recorded (stored before v1.3, or by a directory that knows no tenants). */
        UNRECORDED
    }

    /**
     * The recorded appId must be the request's, and so must the recorded owner uin. A part the credential does not
     * record is not compared: a credential stored before v1.5 records no owner uin, and its tenant's requests name
     * one now.
     */
    public Standing owns(Tenant requester) {
        if (appId.isEmpty() && ownerUin.isEmpty()) {
            return Standing.UNRECORDED;
        }
        boolean same = (appId.isEmpty() || appId.equals(requester.appId))
                && (ownerUin.isEmpty() || ownerUin.equals(requester.ownerUin));
        return same ? Standing.SAME : Standing.OTHER;
    }

    /**
     * Whether the request may remove the credential without the directory's word that it may reach the cluster (a
     * deauthorize of a cluster that cannot be found): only its own tenant may, and a credential that records no
     * tenant only where the directory knows no tenants (one operator's kubeconfig). With tenants, a cluster that
     * cannot be found is exactly what another tenant's cluster looks like.
     */
    public boolean removableWithoutDirectory(Tenant requester, boolean directoryKnowsTenants) {
        Standing standing = owns(requester);
        return standing == Standing.SAME || (standing == Standing.UNRECORDED && !directoryKnowsTenants);
    }
}
