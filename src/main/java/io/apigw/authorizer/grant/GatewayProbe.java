package io.apigw.authorizer.grant;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;

import io.apigw.authorizer.credential.StoredCredential;
import io.apigw.authorizer.grant.AccessReview.Permission;
import io.apigw.authorizer.kube.ClusterClients;
import io.apigw.authorizer.kube.KubeErrors;
import io.apigw.authorizer.kube.ParallelCalls;
import io.apigw.authorizer.policy.Policy;
import io.apigw.authorizer.result.CredentialProblem;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.function.Supplier;

/**
 * Tries a token exactly as the gateway will use it: the given endpoint and CA, the token alone. Two reviews made as
 * that token, at once: a SelfSubjectRulesReview in kube-system must cover every permission of every rule of the
 * cluster's policy, and a SelfSubjectAccessReview without a namespace must allow a sample of them cluster-wide (a
 * RoleBinding in kube-system alone would pass the first, not the second). A 401 on either is a rejected token. Where the rules review cannot
 * answer completely (a webhook authorizer), one cluster-wide access review per policy rule decides instead. Nothing is
 * taken on faith: a review without an answer is not a grant.
 */
@ApplicationScoped
public class GatewayProbe {

    private static final String TRYING = "trying the gateway's token";
    /** The gateway lists and watches pods, services and endpoints in every namespace. */
    static final Permission CLUSTER_WIDE_SAMPLE = Permission.clusterWide("list", "", "pods");

    private final ClusterClients clients;
    private final ParallelCalls calls;

    public GatewayProbe(ClusterClients clients, ParallelCalls calls) {
        this.clients = clients;
        this.calls = calls;
    }

    /**
     * @param serviceAccountUid the uid of {@code kube-system/apigw-ingress} as the admin sees it, or null when unknown
     * @throws io.apigw.authorizer.result.AuthorizationException when the server cannot be asked (unreachable, 5xx)
     */
    public TokenVerdict verify(String clusterId, StoredCredential as, String serviceAccountUid, Policy policy) {
        Optional<TokenClaims.Subject> subject = TokenClaims.subject(as.token());
        if (subject.isPresent() && !subject.get().isGateway(serviceAccountUid)) {
            return new TokenVerdict(CredentialProblem.wrong_account, "the token is not one of "
                    + ReservedResources.NAMESPACE + "/" + ReservedResources.SERVICE_ACCOUNT
                    + (subject.get().name().startsWith("system:serviceaccount:") ? " but of "
                            + subject.get().name().substring("system:serviceaccount:".length()) : "")
                    + (TokenClaims.GATEWAY_SUBJECT.equals(subject.get().name())
                            ? " as it is now (it was issued to an earlier account of that name)" : ""));
        }
        try (ClusterClients.Lease lease = clients.openAs(clusterId, as)) {
            KubernetesClient gateway = lease.client();
            CompletableFuture<Boolean> sample = calls.submit(() -> allowedClusterWide(gateway, CLUSTER_WIDE_SAMPLE));
            List<ResourceRule> rules;
            try {
                rules = rulesInKubeSystem(gateway);
            } catch (Rejected e) {
                ParallelCalls.settled(sample);
                return rejected();
            } catch (RuntimeException e) {
                ParallelCalls.settled(sample);
                throw e;
            }
            boolean sampleAllowed;
            try {
                sampleAllowed = ParallelCalls.join(sample);
            } catch (Rejected e) {
                return rejected();
            }
            List<Permission> missing = rules == null ? missingClusterWide(gateway, policy) : missing(rules, policy);
            if (!missing.isEmpty()) {
                return lacks(missing, policy);
            }
            return sampleAllowed ? TokenVerdict.USABLE : lacks(List.of(CLUSTER_WIDE_SAMPLE), policy);
        } catch (Rejected e) {
            return rejected();
        }
    }

    /** Permissions of the policy that the kube-system rules do not cover. */
    static List<Permission> missing(List<ResourceRule> rules, Policy policy) {
        List<Permission> missing = new ArrayList<>();
        for (Permission p : AccessReview.permissions(policy)) {
            if (!AccessReview.covered(rules, new Permission(AccessReview.Scope.KUBE_SYSTEM, p.verb(), p.group(),
                    p.resource(), null))) {
                missing.add(p);
            }
        }
        return missing;
    }

    /** The fallback: one cluster-wide review per policy rule, of its first verb on its first resource. */
    private List<Permission> missingClusterWide(KubernetesClient gateway, Policy policy) {
        List<Permission> samples = new ArrayList<>();
        for (PolicyRule r : policy.rules()) {
            samples.add(Permission.clusterWide(r.getVerbs().get(0), r.getApiGroups().get(0),
                    r.getResources().get(0)));
        }
        List<Permission> missing = new ArrayList<>();
        for (Permission p : samples) {
            if (!allowedClusterWide(gateway, p)) {
                missing.add(p);
            }
        }
        return missing;
    }

    private static TokenVerdict rejected() {
        return new TokenVerdict(CredentialProblem.rejected, "the API server rejects the token (401)");
    }

    private static TokenVerdict lacks(List<Permission> missing, Policy policy) {
        return new TokenVerdict(CredentialProblem.lacks_rights, "the token lacks the rights of policy v"
                + policy.version() + (policy == Policy.V1 ? " (the seed's)" : "") + ": "
                + String.join(", ", missing.stream().limit(5).map(Permission::toString).toList())
                + (missing.size() > 5 ? " and " + (missing.size() - 5) + " more" : ""));
    }

    /** kube-system's rules as the token holds them, or null when the server cannot list them completely. */
    private static List<ResourceRule> rulesInKubeSystem(KubernetesClient gateway) {
        SelfSubjectRulesReview review = asGateway(gateway, () -> gateway.authorization().v1()
                .selfSubjectRulesReview().create(new SelfSubjectRulesReviewBuilder()
                        .withNewSpec().withNamespace(ReservedResources.NAMESPACE).endSpec().build()));
        if (review == null || review.getStatus() == null || Boolean.TRUE.equals(review.getStatus().getIncomplete())) {
            return null;
        }
        return review.getStatus().getResourceRules() == null ? List.of() : review.getStatus().getResourceRules();
    }

    private static boolean allowedClusterWide(KubernetesClient gateway, Permission p) {
        SelfSubjectAccessReview review = asGateway(gateway, () -> gateway.authorization().v1()
                .selfSubjectAccessReview().create(new SelfSubjectAccessReviewBuilder().withNewSpec()
                        .withNewResourceAttributes().withVerb(p.verb()).withGroup(p.group())
                        .withResource(p.resource()).endResourceAttributes().endSpec().build()));
        return review != null && review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAllowed());
    }

    /** One review as the gateway; a 401 is the answer "rejected", anything else the server failed to answer. */
    private static <T> T asGateway(KubernetesClient gateway, Supplier<T> review) {
        try {
            return KubeErrors.bounded(gateway, TRYING, review);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 401) {
                throw new Rejected();
            }
            if (e.getCode() == 403) {
                return null; // the token may not even ask: it holds no grant we could confirm
            }
            throw KubeErrors.classify(e, TRYING);
        }
    }

    /** The server rejected the token; not a failure of the probe. */
    private static final class Rejected extends RuntimeException {
        Rejected() {
            super(null, null, false, false);
        }
    }
}
