package io.apigw.authorizer.grant;

import java.io.IOException;
import java.security.cert.CertificateException;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLException;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** Sorts a failed call to a target API server into a contract code, and says whether retrying may help. */
public final class KubeErrors {

    private static final int MAX_SERVER_MESSAGE = 300;

    private KubeErrors() {
    }

    public static AuthorizationException classify(KubernetesClientException e, String during) {
        int status = e.getCode();
        String server = serverMessage(e);
        if (status <= 0) {
            if (causedBy(e, SSLException.class) || causedBy(e, CertificateException.class)) {
                // Never retried and never downgraded to an unverified connection.
                return AuthorizationException.permanent(FailureCode.API_SERVER_UNREACHABLE,
                        "TLS verification of the API server failed while " + during
                                + ": its certificate is not signed by the cluster's CA");
            }
            String kind = causedBy(e, TimeoutException.class) || causedBy(e, java.net.SocketTimeoutException.class)
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
            case 429, 502, 503, 504 -> AuthorizationException.transientFailure(FailureCode.API_SERVER_UNREACHABLE,
                    "the API server answered " + status + " while " + during);
            default -> status >= 500
                    ? AuthorizationException.transientFailure(FailureCode.INTERNAL,
                            "the API server answered " + status + " while " + during + server)
                    : AuthorizationException.permanent(FailureCode.INTERNAL,
                            "the API server answered " + status + " while " + during + server);
        };
    }

    /** Runs one call to a target API server, sorting its failure into a contract code. */
    public static <T> T call(String during, java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (KubernetesClientException e) {
            throw classify(e, during);
        }
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
        String m = e.getStatus().getMessage().replaceAll("\\s+", " ");
        return ": " + (m.length() > MAX_SERVER_MESSAGE ? m.substring(0, MAX_SERVER_MESSAGE) + "…" : m);
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
