package io.apigw.authorizer.kube;

import java.io.IOException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import javax.net.ssl.SSLException;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.timing.Watchdog;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.SocketTimeoutException;

/** Sorts a failed call to a target API server into a contract code, and says whether retrying may help. */
public final class KubeErrors {

    private static final int MAX_SERVER_MESSAGE = 300;
    private static final Pattern BEARER = Pattern.compile("(?i)bearer\\s+\\S+");
    private static final Pattern JWT = Pattern.compile("eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

    private KubeErrors() {
    }

    public static AuthorizationException classify(KubernetesClientException e, String during) {
        int status = e.getCode();
        String server = serverMessage(e);
        if (status <= 0) {
            if (causedBy(e, SSLException.class) || causedBy(e, CertificateException.class)) {
                // Never retried and never downgraded to an unverified connection.
                return AuthorizationException.permanent(FailureCode.API_SERVER_UNREACHABLE,
                        "TLS verification of the API server failed while " + during + ": " + (hostMismatch(e)
                                ? "its certificate is not valid for the endpoint's host name"
                                : "its certificate is not signed by the cluster's CA"));
            }
            String kind = causedBy(e, TimeoutException.class) || causedBy(e, SocketTimeoutException.class)
                    ? "timed out" : "did not answer";
            return AuthorizationException.transientFailure(FailureCode.API_SERVER_UNREACHABLE,
                    "the cluster's private API server endpoint " + kind + " while " + during);
        }
        return switch (status) {
            case 401 -> AuthorizationException.permanent(FailureCode.PERMISSION_DENIED,
                    "the API server rejected the worker's admin credential (401) while " + during);
            case 403 -> AuthorizationException.permanent(FailureCode.PERMISSION_DENIED,
                    "forbidden while " + during + server);
            case 409 -> AuthorizationException.transientFailure(FailureCode.CONFLICT,
                    "conflicting concurrent change while " + during + server);
            case 429, 502, 503, 504 -> new AuthorizationException(FailureCode.API_SERVER_UNREACHABLE,
                    "the API server answered " + status + " while " + during, true, retryAfter(e));
            default -> status >= 500
                    ? AuthorizationException.transientFailure(FailureCode.INTERNAL,
                            "the API server answered " + status + " while " + during + server)
                    : AuthorizationException.permanent(FailureCode.INTERNAL,
                            "the API server answered " + status + " while " + during + server);
        };
    }

    /**
     * Runs one call to a target API server, bounded as a whole by the client's request timeout (fabric8 bounds only
     * the wait for the response headers; a server that stalls or trickles its body would hold the worker), and sorts
     * its failure into a contract code.
     */
    public static <T> T call(KubernetesClient client, String during, Supplier<T> call) {
        return bounded(client, during, () -> classified(during, call));
    }

    /**
     * As {@link #call}, but a failure the server answered reaches the caller unsorted, for calls where some answers
     * are expected (a 409 on create, a 404 for an API the server does not serve).
     */
    public static <T> T bounded(KubernetesClient client, String during, Supplier<T> call) {
        int limit = client.getConfiguration().getRequestTimeout();
        if (limit <= 0) {
            return call.get();
        }
        Watchdog watchdog = Watchdog.start(Duration.ofMillis(limit + WATCHDOG_SLACK_MS));
        try (watchdog) {
            return call.get();
        } catch (RuntimeException e) {
            if (watchdog.expired()) {
                throw AuthorizationException.transientFailure(FailureCode.API_SERVER_UNREACHABLE,
                        "the cluster's private API server endpoint timed out while " + during);
            }
            throw e;
        }
    }

    private static <T> T classified(String during, Supplier<T> call) {
        try {
            return call.get();
        } catch (KubernetesClientException e) {
            throw classify(e, during);
        }
    }

    /** fabric8's own request timeout fires first when it can; this catches what it cannot see. */
    private static final long WATCHDOG_SLACK_MS = 500;

    private static Duration retryAfter(KubernetesClientException e) {
        if (e.getStatus() == null || e.getStatus().getDetails() == null
                || e.getStatus().getDetails().getRetryAfterSeconds() == null) {
            return null;
        }
        return Duration.ofSeconds(Math.max(0, e.getStatus().getDetails().getRetryAfterSeconds()));
    }

    /** I/O failures that reach us unwrapped (watches, waits) are sorted the same way. */
    public static AuthorizationException classify(Throwable t, String during) {
        if (t instanceof AuthorizationException a) {
            return a;
        }
        if (t instanceof KubernetesClientException k) {
            return classify(k, during);
        }
        if (causedBy(t, KubernetesClientException.class)) {
            return classify(find(t, KubernetesClientException.class), during);
        }
        if (causedBy(t, IOException.class) || causedBy(t, TimeoutException.class)) {
            return classify(new KubernetesClientException("I/O", t), during);
        }
        return AuthorizationException.permanent(FailureCode.INTERNAL,
                "unexpected " + t.getClass().getSimpleName() + " while " + during);
    }

    private static String serverMessage(KubernetesClientException e) {
        if (e.getStatus() == null || e.getStatus().getMessage() == null) {
            return "";
        }
        // A server may quote the request back; the admin credential must not travel on in our message.
        String m = BEARER.matcher(JWT.matcher(e.getStatus().getMessage()).replaceAll("[redacted]"))
                .replaceAll("Bearer [redacted]").replaceAll("\\s+", " ");
        return ": " + (m.length() > MAX_SERVER_MESSAGE ? m.substring(0, MAX_SERVER_MESSAGE) + "…" : m);
    }

    /**
     * The JDK's endpoint identification refuses a certificate of a trusted CA that names another host with these
     * words (sun.security.util.HostnameChecker); a certificate of another CA fails path building instead.
     */
    private static boolean hostMismatch(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            if (c instanceof CertificateException && m != null
                    && (m.startsWith("No subject alternative") || m.startsWith("No name matching"))) {
                return true;
            }
        }
        return false;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        return find(t, type) != null;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }
}
