package io.apigw.authorizer.testing;

import java.time.Duration;
import java.util.Map;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfigBuilder;

/** The worker's configuration with its defaults and the given settings, for component tests without Quarkus. */
public final class Configs {

    private Configs() {
    }

    public static AuthorizerConfig authorizer(Map<String, String> settings) {
        return new SmallRyeConfigBuilder().withMapping(AuthorizerConfig.class)
                .withConverter(Duration.class, 100, new DurationConverter()) // Quarkus's "10s" form
                .withDefaultValue("authorizer.concurrency", "4").withDefaultValues(settings).build()
                .getConfigMapping(AuthorizerConfig.class);
    }
}
