package io.apigw.authorizer.result;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.apigw.authorizer.result.ResourceAction;

/** The events the worker publishes (contract section 4); {@link #type()} is their {@code ce_type}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface Result {

    @JsonIgnore
    String type();

    String requestId();

    String clusterId();

    /** RFC 3339, UTC, millisecond precision. */
    static String now() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    }

    /** Since v1.4 {@code policyVersion}: the policy version of the cluster's ClusterRole. */
    @JsonPropertyOrder({ "requestId", "clusterId", "region", "completedAt", "attempts", "alreadyAuthorized",
            "resources", "tokenSecret", "credentialRef", "kubernetesVersion", "policyVersion" })
    record Authorized(String requestId, String clusterId, String region, String completedAt, int attempts,
            boolean alreadyAuthorized, List<ResourceAction> resources, String tokenSecret, String credentialRef,
            String kubernetesVersion, int policyVersion) implements Result {

        @Override
        public String type() {
            return "Authorized";
        }
    }

    /**
     * A check found the cluster not (fully) authorized (contract section 8). Since v1.2 {@code credentialProblem} and
     * {@code credentialMessage} say why, when {@code credentialValid} is false; since v1.4 {@code policyVersion} is the
     * policy the ClusterRole was compared with.
     */
    @JsonPropertyOrder({ "requestId", "clusterId", "region", "completedAt", "attempts", "missing", "drifted",
            "credentialValid", "credentialProblem", "credentialMessage", "policyVersion" })
    record NotAuthorized(String requestId, String clusterId, String region, String completedAt, int attempts,
            List<String> missing, List<String> drifted, boolean credentialValid, CredentialProblem credentialProblem,
            String credentialMessage, int policyVersion) implements Result {

        @Override
        public String type() {
            return "NotAuthorized";
        }
    }

    /**
     * {@code complete}: every reserved resource and the stored credential are gone. When the cluster could not be
     * reached the stored credential is removed anyway, the reserved resources are reported {@code unreachable}, and
     * {@code retryable} and {@code message} say whether and how a Retry can remove them.
     */
    @JsonPropertyOrder({ "requestId", "clusterId", "region", "completedAt", "attempts", "resources", "complete",
            "retryable", "message", "sharedWith" })
    record Deauthorized(String requestId, String clusterId, String region, String completedAt, int attempts,
            List<ResourceAction> resources, boolean complete, Boolean retryable, String message,
            List<String> sharedWith) implements Result {

        public Deauthorized(String requestId, String clusterId, String region, String completedAt, int attempts,
                List<ResourceAction> resources) {
            this(requestId, clusterId, region, completedAt, attempts, resources, true, null, null, null);
        }

        @Override
        public String type() {
            return "Deauthorized";
        }
    }

    /**
     * Since v1.2: a new token is stored in place of the old ({@code credentialRef}); the old one
     * ({@code previousTokenSecret}, null when there was none stored) stays valid until {@code revokeAfter}, then its
     * Secret is deleted ({@code revoked}: already done, for a grace of zero).
     */
    @JsonPropertyOrder({ "requestId", "clusterId", "region", "completedAt", "attempts", "tokenSecret",
            "previousTokenSecret", "revokeAfter", "revoked", "credentialRef", "kubernetesVersion" })
    record CredentialRotated(String requestId, String clusterId, String region, String completedAt, int attempts,
            String tokenSecret, String previousTokenSecret, String revokeAfter, boolean revoked, String credentialRef,
            String kubernetesVersion) implements Result {

        @Override
        public String type() {
            return "CredentialRotated";
        }
    }

    /**
     * Since v1.3: a conditional authorize ({@code ifCredentialVersion}, a sweep's repair) did nothing, because the
     * stored credential has changed ({@code credential_changed}) or been deleted ({@code credential_deleted}) since its
     * sender saw it. A deauthorize in between is never undone.
     */
    @JsonPropertyOrder({ "requestId", "clusterId", "region", "completedAt", "attempts", "reason", "message" })
    record AuthorizationSkipped(String requestId, String clusterId, String region, String completedAt, int attempts,
            String reason, String message) implements Result {

        public static final String CREDENTIAL_CHANGED = "credential_changed";
        public static final String CREDENTIAL_DELETED = "credential_deleted";

        @Override
        public String type() {
            return "AuthorizationSkipped";
        }
    }

    @JsonPropertyOrder({ "requestId", "clusterId", "region", "completedAt", "attempts", "retryable", "message" })
    record PrivateAccessDisabled(String requestId, String clusterId, String region, String completedAt, int attempts,
            boolean retryable, String message) implements Result {

        public static final String MESSAGE = "Private network access to the cluster's API server is not enabled. "
                + "Enable it, then retry.";

        @Override
        public String type() {
            return "PrivateAccessDisabled";
        }
    }

    @JsonPropertyOrder({ "requestId", "clusterId", "region", "completedAt", "attempts", "code", "retryable", "message" })
    record Failed(String requestId, String clusterId, String region, String completedAt, int attempts,
            FailureCode code, boolean retryable, String message) implements Result {

        public Failed(String requestId, String clusterId, String region, int attempts, FailureCode code,
                String message) {
            this(requestId, clusterId, region, now(), attempts, code, code.retryable(), message);
        }

        @Override
        public String type() {
            return "Failed";
        }
    }
}
