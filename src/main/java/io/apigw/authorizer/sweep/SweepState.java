package io.apigw.authorizer.sweep;

import io.apigw.authorizer.result.CredentialProblem;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;

/**
 * What a sweep's check found of one cluster (the {@code apigw.tencent.com/sweep-state} annotation and the
 * {@code authorizer_sweep_clusters} gauge); {@code unchecked}: no verdict came back before the sweep's interval ended.
 */
public enum SweepState {
    authorized,
    /** A reserved resource is missing or differs from the cluster's policy. */
    drifted,
    /** The resources are in place, but the stored credential is not usable as it is ({@code credentialProblem}). */
    credential_invalid,
    private_access_disabled,
    /** Since v1.5: another cluster answers than the one authorized; only the console's authorize re-establishes it. */
    cluster_replaced,
    /** No answer, or a refusal that another attempt may not get (permissions, conflicts, the deadline). */
    unreachable,
    not_found,
    unchecked;

    /** The states a repair (re-authorize) can fix. */
    public boolean repairable() {
        return this == drifted || this == credential_invalid;
    }

    public static SweepState of(Result checked) {
        if (checked instanceof Result.Authorized) {
            return authorized;
        }
        if (checked instanceof Result.NotAuthorized n) {
            if (n.credentialProblem() == CredentialProblem.cluster_replaced) {
                return cluster_replaced;
            }
            return n.missing().isEmpty() && n.drifted().isEmpty() ? credential_invalid : drifted;
        }
        if (checked instanceof Result.PrivateAccessDisabled) {
            return private_access_disabled;
        }
        if (checked instanceof Result.Failed f && f.code() == FailureCode.CLUSTER_NOT_FOUND) {
            return not_found;
        }
        return unreachable;
    }
}
