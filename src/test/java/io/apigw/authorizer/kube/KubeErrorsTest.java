package io.apigw.authorizer.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;

import javax.net.ssl.SSLHandshakeException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

/** Sorting of target-cluster failures into contract codes and retryability: no server needed. */
class KubeErrorsTest {

    @ParameterizedTest
    @CsvSource({
            "401, PERMISSION_DENIED, false",
            "403, PERMISSION_DENIED, false",
            "409, CONFLICT, true",
            "429, API_SERVER_UNREACHABLE, true",
            "502, API_SERVER_UNREACHABLE, true",
            "503, API_SERVER_UNREACHABLE, true",
            "504, API_SERVER_UNREACHABLE, true",
            "500, INTERNAL, true",
            "422, INTERNAL, false",
            "404, INTERNAL, false" })
    void httpStatus(int status, FailureCode code, boolean retryable) {
        AuthorizationException e = KubeErrors.classify(new KubernetesClientException("x", status, null), "testing");

        assertThat(e.code()).isEqualTo(code);
        assertThat(e.isTransient()).isEqualTo(retryable);
    }

    @Test
    void tlsFailureIsPermanentAndIOIsRetryable() {
        AuthorizationException tls = KubeErrors.classify(
                new KubernetesClientException("x", new SSLHandshakeException("bad cert")), "connecting");
        AuthorizationException io = KubeErrors.classify((Throwable) new IOException("reset"), "connecting");

        assertThat(tls.code()).isEqualTo(FailureCode.API_SERVER_UNREACHABLE);
        assertThat(tls.isTransient()).isFalse();
        assertThat(io.code()).isEqualTo(FailureCode.API_SERVER_UNREACHABLE);
        assertThat(io.isTransient()).isTrue();
    }

    @Test
    void retryAfterIsKeptAndTheServersMessageIsRedacted() {
        Status status = new StatusBuilder().withCode(429).withNewDetails().withRetryAfterSeconds(7).endDetails()
                .build();
        Status echo = new StatusBuilder().withCode(403)
                .withMessage("forbidden: Authorization: Bearer abc.def and eyJhbGciOi.eyJzdWIi.c2ln").build();

        assertThat(KubeErrors.classify(new KubernetesClientException(status), "x").retryAfter())
                .contains(Duration.ofSeconds(7));
        String message = KubeErrors.classify(new KubernetesClientException(echo), "x").getMessage();
        assertThat(message).doesNotContain("abc.def").doesNotContain("eyJhbGciOi").contains("[redacted]");
    }

    @Test
    void anAlreadySortedFailurePassesThroughAndTheUnknownIsPermanent() {
        AuthorizationException sorted = AuthorizationException.transientFailure(FailureCode.CONFLICT, "x");

        assertThat(KubeErrors.classify((Throwable) sorted, "x")).isSameAs(sorted);
        assertThat(KubeErrors.classify((Throwable) new IllegalStateException(), "x").isTransient()).isFalse();
    }
}
