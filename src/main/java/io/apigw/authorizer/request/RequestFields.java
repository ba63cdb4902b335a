package io.apigw.authorizer.request;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import io.apigw.authorizer.policy.Policy;

/** A request's fields read from the event data, each checked; a field's problem is thrown as {@link Invalid}. */
final class RequestFields {

    /** A Kubernetes resourceVersion: opaque, but digits in every API server; bounded here for logs and keys. */
    static final Pattern CREDENTIAL_VERSION = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    /** The longest grace a rotation may ask for: an old token alive for longer is no rotation. */
    static final Duration MAX_GRACE = Duration.ofDays(7);

    private RequestFields() {
    }

    static Optional<Duration> grace(JsonNode data, RequestType type) {
        if (type != RequestType.ROTATE || !data.hasNonNull("grace")) {
            return Optional.empty();
        }
        return Optional.of(grace(data.get("grace")).orElseThrow(() -> new Invalid("grace must be an ISO-8601 "
                + "duration (such as PT10M) or whole seconds, from 0 to " + MAX_GRACE.toDays() + " days")));
    }

    static Trigger trigger(JsonNode data) {
        if (!data.hasNonNull("trigger")) {
            return Trigger.console;
        }
        return text(data, "trigger").flatMap(Trigger::of).orElseThrow(() -> new Invalid("trigger must be one of "
                + String.join(", ", Arrays.stream(Trigger.values()).map(Enum::name).toList())));
    }

    static Optional<String> ifCredentialVersion(JsonNode data, RequestType type) {
        if (!data.hasNonNull("ifCredentialVersion")) {
            return Optional.empty();
        }
        Optional<String> ifVersion = text(data, "ifCredentialVersion").filter(CREDENTIAL_VERSION.asMatchPredicate());
        if (type != RequestType.AUTHORIZE) {
            throw new Invalid("ifCredentialVersion is only for ClusterAuthorizationRequested");
        }
        return Optional.of(ifVersion.orElseThrow(() -> new Invalid(
                "ifCredentialVersion must be 1-64 characters of [A-Za-z0-9._:-]")));
    }

    static Optional<Integer> policyVersion(JsonNode data, Optional<String> ifVersion) {
        if (!data.hasNonNull("policyVersion")) {
            return Optional.empty();
        }
        JsonNode v = data.get("policyVersion");
        Optional<Integer> policyVersion = v.isIntegralNumber() && v.canConvertToInt() ? Optional.of(v.asInt())
                : Optional.empty();
        if (ifVersion.isEmpty()) {
            // Never outside a rollout: a cluster's rules change only when its credential is the one judged.
            throw new Invalid("policyVersion is only for a conditional ClusterAuthorizationRequested (with "
                    + "ifCredentialVersion)");
        }
        if (policyVersion.flatMap(Policy::of).isEmpty()) {
            throw new Invalid("policyVersion must be one of " + Policy.versions());
        }
        return policyVersion;
    }

    /** A rotation's grace: {@code "PT10M"} or whole seconds, 0 to {@link #MAX_GRACE}. */
    private static Optional<Duration> grace(JsonNode v) {
        Duration d;
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            d = Duration.ofSeconds(v.asLong());
        } else if (v.isTextual() && v.asText().length() <= 32) {
            try {
                d = Duration.parse(v.asText());
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        } else {
            return Optional.empty();
        }
        return d.isNegative() || d.compareTo(MAX_GRACE) > 0 ? Optional.empty() : Optional.of(d);
    }

    static String fieldProblem(JsonNode data, String field, String expected) {
        JsonNode v = data.get(field);
        if (v == null || v.isNull()) {
            return field + " is required";
        }
        if (!v.isTextual()) {
            return field + " must be a string";
        }
        return field + " must be " + expected;
    }

    static Optional<String> text(JsonNode data, String field) {
        JsonNode v = data.get(field);
        return v != null && v.isTextual() ? Optional.of(v.textValue()) : Optional.empty();
    }

    /** An optional scalar field: absent or null is empty; any other value must be {@code valid}, else the problem. */
    static Optional<String> scalar(JsonNode data, String field, Predicate<String> valid, String problem) {
        Optional<String> v = scalar(data, field);
        if (data.hasNonNull(field) && v.filter(valid).isEmpty()) {
            throw new Invalid(problem);
        }
        return v;
    }

    /** Tencent account ids are numeric, so a JSON integer is accepted where a string is expected. */
    private static Optional<String> scalar(JsonNode data, String field) {
        JsonNode v = data.get(field);
        if (v != null && v.isIntegralNumber()) {
            return Optional.of(v.asText());
        }
        return text(data, field);
    }
}
