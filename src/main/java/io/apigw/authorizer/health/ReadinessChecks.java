package io.apigw.authorizer.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.directory.ClusterDirectory;

/**
 * Ready means results can be stored: the worker's own cluster answers for the credential namespace, and the
 * cluster directory can be read. Kafka's is {@link KafkaAccessCheck}'s, and the channels' the messaging extension's.
 */
@ApplicationScoped
public class ReadinessChecks {

    @Produces
    @Readiness
    @ApplicationScoped
    HealthCheck credentialStore(CredentialStore store) {
        return () -> HealthCheckResponse.named("credential-store")
                .status(store.reachable())
                .withData("namespace", store.namespace())
                .build();
    }

    @Produces
    @Readiness
    @ApplicationScoped
    HealthCheck clusterDirectory(ClusterDirectory directory) {
        return () -> HealthCheckResponse.named("cluster-directory").status(directory.ready()).build();
    }
}
