package io.apigw.authorizer.result;

/**
 * Why a cluster's gateway credential is not usable ({@code NotAuthorized.credentialProblem}, contract note 14). Named
 * in lower case because they are the values on the wire.
 */
public enum CredentialProblem {
    /** No credential is stored for the cluster. */
    missing,
    /** The directory names another private endpoint than the one stored. */
    endpoint_changed,
    /** The directory names another cluster CA than the one stored. */
    ca_changed,
    /** The token Secret is labelled {@code kubernetes.io/legacy-token-invalid-since} by the legacy token cleaner. */
    invalidated,
    /** The API server rejects the token (401): revoked, rotated, or its Secret is gone. */
    rejected,
    /** The token authenticates, but as another account than {@code kube-system/apigw-ingress}. */
    wrong_account,
    /** The token authenticates as the gateway's account but lacks the rights of the cluster's policy (v1: the seed's). */
    lacks_rights,
    /** Since v1.5: another cluster answers behind the id or endpoint than the one the credential was issued by. */
    cluster_replaced
}
