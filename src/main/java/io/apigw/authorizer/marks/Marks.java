package io.apigw.authorizer.marks;

/**
 * Every label and annotation the worker writes ({@code apigw.tencent.com/*}), in one place: on the reserved
 * resources in a target cluster, on the stored credential Secrets and on the sweeper's Lease in its own cluster.
 * They are part of the contract (README, contract notes): operators and other gateway instances read them.
 */
public final class Marks {

    // --- on the reserved resources in a target cluster ---------------------------------------------------------
    /** ServiceAccount: the gateway instances ({@code authorizer.instance-id}) that rely on the reserved resources. */
    public static final String OWNERS = "apigw.tencent.com/owners";
    /** ServiceAccount: {@code id=version,…}, the policy version each instance relies on (issue 26, G3). */
    public static final String OWNER_POLICIES = "apigw.tencent.com/owner-policies";
    /**
     * ClusterRole: the version of the policy its rules are; the stored credential's label of the same key: the
     * version its cluster's ClusterRole was last written with (v1.4; absent: 1, the seed's rules).
     */
    public static final String POLICY_VERSION = "apigw.tencent.com/policy-version";
    /** ServiceAccount and stored credential: the tenant's appId. */
    public static final String APP_ID = "apigw.tencent.com/app-id";

    // --- on a stored credential Secret (the worker's own cluster) ------------------------------------------------
    public static final String CLUSTER_ID = "apigw.tencent.com/cluster-id";
    public static final String TOKEN_SECRET = "apigw.tencent.com/token-secret";
    public static final String TOKEN_SECRET_UID = "apigw.tencent.com/token-secret-uid";
    public static final String TOKEN_STORED_AT = "apigw.tencent.com/token-stored-at";
    /** A pending revocation: the old token Secret (name, uid) and when it goes (RFC 3339). */
    public static final String REVOKE_TOKEN_SECRET = "apigw.tencent.com/revoke-token-secret";
    public static final String REVOKE_TOKEN_SECRET_UID = "apigw.tencent.com/revoke-token-secret-uid";
    public static final String REVOKE_AFTER = "apigw.tencent.com/revoke-after";
    /** What a sweep needs to ask the directory again (v1.3). */
    public static final String REGION = "apigw.tencent.com/region";
    public static final String OWNER_UIN = "apigw.tencent.com/owner-uin";
    /** The kube-system namespace uid of the cluster the credential was issued by. */
    public static final String CLUSTER_UID = "apigw.tencent.com/cluster-uid";
    /** When the stored token last proved usable (stored after a proof, or a sweep's check found it so). */
    public static final String VERIFIED_AT = "apigw.tencent.com/verified-at";
    /**
     * A deauthorize began (its requestId): written before its first delete, so that a repair judged earlier cannot
     * put back what it removes should its last step fail; an authorize from the console clears it.
     */
    public static final String DEAUTHORIZING = "apigw.tencent.com/deauthorizing";
    /** The last sweep's verdict: which sweep, when, and the state it found. */
    public static final String SWEEP_ID = "apigw.tencent.com/sweep-id";
    public static final String CHECKED_AT = "apigw.tencent.com/checked-at";
    public static final String SWEEP_STATE = "apigw.tencent.com/sweep-state";

    // --- on the sweeper's Lease (the worker's own cluster) -------------------------------------------------------
    /** Any value pauses the rollout (the worker writes why); removing it resumes the rollout. */
    public static final String ROLLOUT_PAUSED = "apigw.tencent.com/rollout-paused";
    /** The wave in flight; removed once it is judged. */
    public static final String ROLLOUT_WAVE = "apigw.tencent.com/rollout-wave";

    private Marks() {
    }
}
