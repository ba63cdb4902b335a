package io.apigw.authorizer.config;

import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Every setting of the worker, in one place. Kafka and the worker's own cluster use the standard Quarkus keys. */
@ConfigMapping(prefix = "authorizer")
public interface AuthorizerConfig {

    /** How many clusters are authorized at once (the worker pool and the per-key ordering window use it). */
    int concurrency();

    Directory directory();

    Credentials credentials();

    Kube kube();

    Token token();

    Retry retry();

    Request request();

    interface Directory {
        /** Where clusters are found: {@code kubeconfig} (one file, a context per cluster id) or {@code tke}. */
        @WithDefault("kubeconfig")
        DirectoryType type();

        Kubeconfig kubeconfig();

        interface Kubeconfig {
            /** The kubeconfig file; default: {@code $KUBECONFIG} or {@code ~/.kube/config}. */
            Optional<String> path();
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
    }

    interface Token {
        /** How long to wait for the token controller to fill the token Secret. */
        @WithDefault("30s")
        Duration timeout();
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
    }
}
