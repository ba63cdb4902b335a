package io.apigw.authorizer.directory.tke;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.apigw.authorizer.config.AuthorizerConfig.Directory.Tke.Protocol;

/** Admin kubeconfigs and STS keys never travel in plain text but to a stand-in on this machine (issue 26, G13). */
class CloudApiTlsTest {

    @ParameterizedTest
    @ValueSource(strings = { "tke.tencentcloudapi.com", "tke.internal:8080", "10.0.0.1:80", "127.example.com",
            "[fd00::1]:80", "localhost.example.com" })
    void plainHttpToAnyOtherHostIsRefusedAtStartUp(String endpoint) {
        assertThatThrownBy(() -> CloudApi.requireTls(Protocol.http, endpoint))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a loopback address");
    }

    @ParameterizedTest
    @ValueSource(strings = { "127.0.0.1:18080", "localhost:8080", "localhost", "[::1]:9000", "127.1.2.3" })
    void plainHttpToALocalStandInIsAccepted(String endpoint) {
        assertThatCode(() -> CloudApi.requireTls(Protocol.http, endpoint)).doesNotThrowAnyException();
    }

    @Test
    void httpsIsAlwaysAccepted() {
        assertThatCode(() -> CloudApi.requireTls(Protocol.https, "tke.tencentcloudapi.com"))
                .doesNotThrowAnyException();
    }
}
