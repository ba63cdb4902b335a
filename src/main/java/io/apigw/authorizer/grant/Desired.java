package io.apigw.authorizer.grant;

import java.util.Optional;
import java.util.Set;

import io.apigw.authorizer.policy.Policy;

/**
 * What a request wants of a cluster's reserved resources, decided by the caller from the stored record once the
 * cluster has been read ({@link ObservedGrant}): the policy the ClusterRole should be, the token Secrets pending
 * revocation (never chosen as the cluster's token) and the tenant marked on the account with this instance.
 */
public record Desired(Policy policy, Set<String> retiring, Optional<String> appId) {
}
