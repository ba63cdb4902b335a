package io.apigw.authorizer.config;

import java.time.Duration;

import io.smallrye.config.WithDefault;

/**
 * Continuous assurance: one replica (the Lease holder) sends a read-only check of every stored credential through
 * the sweeps topic, spread evenly over each interval; any replica runs them, on a pool of their own.
 */
public interface SweepConfig {
    /**
     * How often every stored credential is checked; {@code 0} turns the sweep off. An hour finds drift, a revoked
     * token or private access turned off before most gateways' next deploy, at about 3 checks/s for 10,000 clusters.
     */
    @WithDefault("1h")
    Duration interval();

    /** The most sweep checks sent per second, over all tenants. */
    @WithDefault("10")
    double rate();

    /**
     * The most sweep checks per second for one tenant (appId). A check makes up to three TKE Describe* calls, and
     * TKE allows about 20 calls/s per account, which the tenant's console shares.
     */
    @WithDefault("1")
    double tenantRate();

    /** Sweep checks run at once in this replica, apart from the interactive requests' pool. */
    @WithDefault("2")
    int concurrency();

    /**
     * {@code true}: a cluster a sweep finds drifted or with an unusable credential is re-authorized through the
     * request topic, only if its stored credential is still the one the sweep saw.
     */
    @WithDefault("false")
    boolean repair();

    Lease lease();

    /** The Lease in the credential namespace that picks the one replica scheduling sweeps. */
    interface Lease {
        @WithDefault("apigw-tke-authorizer-sweeper")
        String name();

        /** How long a lost leader holds the Lease; another replica takes over within it. */
        @WithDefault("15s")
        Duration duration();

        @WithDefault("10s")
        Duration renewDeadline();

        @WithDefault("2s")
        Duration retryPeriod();
    }
}
