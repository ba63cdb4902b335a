package io.apigw.authorizer.directory.tke;

import java.time.Duration;
import java.util.Map;

import io.apigw.authorizer.config.AuthorizerConfig;

/** {@code authorizer.directory.tke.*} for plain tests: the stub over http, one-second timeouts. */
record TestTkeConfig(String endpoint, Protocol protocol, Duration connectTimeout, Duration readTimeout,
        Duration cacheTtl, boolean requireTenantCredentials, Map<String, Tenant> tenants, AssumeRole assumeRole)
        implements AuthorizerConfig.Directory.Tke {

    record Keys(String secretId, String secretKey) implements Tenant {
    }

    /** {@code assume-role.*}, STS served by the same stub. */
    record Roles(boolean enabled, String roleName, String roleArnTemplate, Duration duration, Duration refreshBefore,
            String endpoint, String region) implements AssumeRole {
    }

    static TestTkeConfig against(String endpoint) {
        return new TestTkeConfig(endpoint, Protocol.http, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofSeconds(60), false, Map.of(), new Roles(false, "APIGW_TKEAuthorizerRole",
                        "qcs::cam::uin/{ownerUin}:roleName/{roleName}", Duration.ofHours(1), Duration.ofMinutes(5),
                        endpoint, "ap-guangzhou"));
    }

    TestTkeConfig withCacheTtl(Duration ttl) {
        return new TestTkeConfig(endpoint, protocol, connectTimeout, readTimeout, ttl, requireTenantCredentials,
                tenants, assumeRole);
    }

    TestTkeConfig withTenants(boolean required, Map<String, Tenant> tenants) {
        return new TestTkeConfig(endpoint, protocol, connectTimeout, readTimeout, cacheTtl, required, tenants,
                assumeRole);
    }

    /** Assume-role on, for tenants without keys; {@code required} serves nobody else. */
    TestTkeConfig withAssumeRole(boolean required, Duration refreshBefore) {
        Roles r = (Roles) assumeRole;
        return new TestTkeConfig(endpoint, protocol, connectTimeout, readTimeout, cacheTtl, required, tenants,
                new Roles(true, r.roleName(), r.roleArnTemplate(), r.duration(), refreshBefore, r.endpoint(),
                        r.region()));
    }
}
