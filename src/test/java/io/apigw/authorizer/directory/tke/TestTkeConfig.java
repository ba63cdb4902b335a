package io.apigw.authorizer.directory.tke;

import java.time.Duration;
import java.util.Map;

import io.apigw.authorizer.config.AuthorizerConfig;

/** {@code authorizer.directory.tke.*} for plain tests: the stub over http, one-second timeouts. */
record TestTkeConfig(String endpoint, Protocol protocol, Duration connectTimeout, Duration readTimeout,
        Duration cacheTtl, boolean requireTenantCredentials, Map<String, Tenant> tenants)
        implements AuthorizerConfig.Directory.Tke {

    record Keys(String secretId, String secretKey) implements Tenant {
    }

    static TestTkeConfig against(String endpoint) {
        return new TestTkeConfig(endpoint, Protocol.http, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(60), false, Map.of());
    }

    TestTkeConfig withCacheTtl(Duration ttl) {
        return new TestTkeConfig(endpoint, protocol, connectTimeout, readTimeout, ttl, requireTenantCredentials,
                tenants);
    }

    TestTkeConfig withTenants(boolean required, Map<String, Tenant> tenants) {
        return new TestTkeConfig(endpoint, protocol, connectTimeout, readTimeout, cacheTtl, required, tenants);
    }
}
