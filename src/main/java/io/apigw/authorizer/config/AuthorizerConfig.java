package io.apigw.authorizer.config;

import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Map;

/**
 * Every setting of the worker, in one mapping (the sweep's group is {@link SweepConfig}). Kafka and the worker's own
 * cluster use the standard Quarkus keys.
 */
@ConfigMapping(prefix = "authorizer")
public interface AuthorizerConfig {

    /** How many clusters are authorized at once (the worker pool and the per-key ordering window use it). */
    int concurrency();

    /**
     * This gateway instance, marked on the reserved ServiceAccount of every cluster it authorizes: a deauthorize leaves
     * the reserved resources in place while another instance (another id) still relies on them. Every replica of one
     * deployment shares it; two deployments that may authorize the same cluster must not.
     */
    @WithDefault("apigw-tke-authorizer")
    String instanceId();

    /**
     * On SIGTERM, how long authorizations in flight may take to finish: the pod's grace (60 s) less what the stop
     * takes afterwards (leaving the group, the last readiness check), about 15 s with the own cluster down.
     */
    @WithDefault("40s")
    Duration shutdownGrace();

    Directory directory();

    Credentials credentials();

    Kube kube();

    Token token();

    Retry retry();

    Request request();

    SweepConfig sweep();

    PolicyChoice policy();

    Rollout rollout();

    interface PolicyChoice {
        /**
         * The ClusterRole policy version new clusters get, and the one a rollout moves authorized clusters to; an
         * authorized cluster keeps its own otherwise. 1 is the seed's rules verbatim.
         */
        @WithDefault("1")
        int version();
    }

    /** How the sweep (with {@code sweep.repair}) moves authorized clusters to {@code policy.version}. */
    interface Rollout {
        /** Clusters moved at once; the next wave starts when this one has settled. */
        @WithDefault("10")
        int waveSize();

        /** A wave whose share of failed clusters is larger pauses the rollout until an operator resumes it. */
        @WithDefault("0.2")
        double failureThreshold();

        /** A wave's cluster not on the new version by then counts as failed (its authorize queues with others). */
        @WithDefault("5m")
        Duration waveTimeout();
    }

    interface Directory {
        /** Where clusters are found: {@code kubeconfig} (one file, a context per cluster id) or {@code tke}. */
        @WithDefault("kubeconfig")
        DirectoryType type();

        Kubeconfig kubeconfig();

        Tke tke();

        interface Kubeconfig {
            /** The kubeconfig file; default: {@code $KUBECONFIG} or {@code ~/.kube/config}. */
            Optional<String> path();
        }

        /** Tencent Cloud TKE API 3.0 (2018-05-25); see docs/tke-directory.md. */
        interface Tke {
            /** Host (and optional port) of the TKE API. */
            @WithDefault("tke.tencentcloudapi.com")
            String endpoint();

            /** {@code https}; {@code http} only for a local stub. */
            @WithDefault("https")
            Protocol protocol();

            /** Bounds for each TKE API call; the SDK counts whole seconds, so these are rounded up. */
            @WithDefault("5s")
            Duration connectTimeout();

            @WithDefault("10s")
            Duration readTimeout();

            /** How long a resolved endpoint and admin credential are reused; {@code 0} turns the cache off. */
            @WithDefault("60s")
            Duration cacheTtl();

            /**
             * {@code true}: only the appIds under {@code tenants} are served; any other request is answered
             * CLUSTER_NOT_FOUND. {@code false}: requests of other (or no) appIds use the SDK's default credentials.
             */
            @WithDefault("false")
            boolean requireTenantCredentials();

            /**
             * Permanent API keys of a tenant's account, by appId: the weaker option (keys that never expire, held by
             * the gateway); a tenant listed here is served with its keys even when {@code assume-role} is on.
             */
            Map<String, Tenant> tenants();

            /** Short-lived credentials for each tenant from STS AssumeRole, for requests that name an ownerUin. */
            AssumeRole assumeRole();

            interface AssumeRole {
                /** {@code true}: a request with {@code ownerUin} is served with the role that tenant granted. */
                @WithDefault("false")
                boolean enabled();

                /** The role each tenant creates and grants to this gateway's account (a CAM role). */
                @WithDefault("APIGW_TKEAuthorizerRole")
                String roleName();

                /** The RoleArn asked for; {@code {ownerUin}} and {@code {roleName}} are filled in. */
                @WithDefault("qcs::cam::uin/{ownerUin}:roleName/{roleName}")
                String roleArnTemplate();

                /** The credentials' lifetime asked of STS (DurationSeconds, up to 12h). */
                @WithDefault("1h")
                Duration duration();

                /** Credentials are assumed again this long before they expire, so no call signs with dying keys. */
                @WithDefault("5m")
                Duration refreshBefore();

                /** Host (and optional port) of the STS API; its protocol and timeouts are the TKE API's. */
                @WithDefault("sts.tencentcloudapi.com")
                String endpoint();

                /** The region STS calls are signed for; the credentials are valid in every region. */
                @WithDefault("ap-guangzhou")
                String region();
            }

            interface Tenant {
                String secretId();

                String secretKey();
            }

            enum Protocol {
                http,
                https
            }
        }
    }

    enum DirectoryType {
        kubeconfig,
        tke
    }

    interface Credentials {
        /** Namespace of the worker's own cluster that holds one credential Secret per authorized cluster. */
        @WithDefault("apigw-system")
        String namespace();
    }

    /** Bounds for every call to a target cluster's API server. */
    interface Kube {
        @WithDefault("5s")
        Duration connectTimeout();

        @WithDefault("10s")
        Duration requestTimeout();

        /**
         * Clients (connection pool, TLS context) kept for reuse, one per API server and credential; the least
         * recently used beyond this are closed. Keep it above {@code authorizer.concurrency}.
         */
        @WithDefault("256")
        int clientCacheSize();

        /** A kept client unused for this long is closed, and its credential dropped from memory. */
        @WithDefault("10m")
        Duration clientIdleTimeout();
    }

    interface Token {
        /** How long to wait for the token controller to fill the token Secret. */
        @WithDefault("30s")
        Duration timeout();

        /**
         * From Kubernetes 1.24 on, an authorize whose token is still the auto-created legacy Secret (listed by the
         * service account, so counted by the legacy token cleaner) rotates it to a worker-owned one, with the
         * rotation's grace. On by default: a gateway that leaves such a cluster unused for a year (the cleaner's
         * default period) would find its token rejected without warning.
         */
        @WithDefault("true")
        boolean migrateLegacy();
    }

    Rotation rotation();

    /** Credential rotation: a new token stored in place, the old one revoked after the grace. */
    interface Rotation {
        /**
         * How long the old token stays valid after the new one is stored; a rotation request may ask for its own.
         * Long enough for a gateway to re-read a changed Secret (mounted Secrets take up to about a minute, plus any
         * cache of its own).
         */
        @WithDefault("10m")
        Duration grace();

        /** An authorize rotates a stored token older than this; unset: never by age. */
        Optional<Duration> maxAge();
    }

    /** Transient failures (I/O, 429, 5xx, conflicts) are retried inside the worker before a result is published. */
    interface Retry {
        @WithDefault("3")
        int maxAttempts();

        @WithDefault("500ms")
        Duration initialBackoff();

        @WithDefault("5s")
        Duration maxBackoff();
    }

    interface Request {
        /** Records larger than this are dead-lettered without being parsed. */
        @WithDefault("65536")
        int maxBytes();

        /**
         * The most one request may take from its start: attempts, backoff, Retry-After and the token wait all count.
         * When it is over the request ends as a retryable {@code Failed}.
         */
        @WithDefault("2m")
        Duration deadline();
    }
}
