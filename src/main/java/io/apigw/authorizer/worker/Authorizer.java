package io.apigw.authorizer.worker;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.directory.ClusterAccess;
import io.apigw.authorizer.directory.ClusterDirectory;
import io.apigw.authorizer.directory.PrivateAccessDisabledException;
import io.apigw.authorizer.grant.ChangeLog;
import io.apigw.authorizer.grant.ClusterClients;
import io.apigw.authorizer.grant.Grant;
import io.apigw.authorizer.grant.GrantReconciler;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * The whole authorization of one cluster: find it, put the reserved resources in place, keep the token, and say
 * how it went. Every step is idempotent, so a transient failure is answered by running the whole attempt again.
 */
@ApplicationScoped
public class Authorizer {

    private static final Logger LOG = Logger.getLogger(Authorizer.class);

    private final ClusterDirectory directory;
    private final ClusterClients clients;
    private final GrantReconciler grants;
    private final CredentialStore credentials;
    private final Backoff backoff;

    public Authorizer(ClusterDirectory directory, ClusterClients clients, GrantReconciler grants,
            CredentialStore credentials, AuthorizerConfig config) {
        this.directory = directory;
        this.clients = clients;
        this.grants = grants;
        this.credentials = credentials;
        this.backoff = Backoff.of(config.retry());
    }

    public Result authorize(AuthorizationRequest request) {
        String region = request.region().orElse(null);
        ChangeLog changes = new ChangeLog();
        for (int attempt = 1;; attempt++) {
            try {
                ClusterAccess access = directory.resolve(request);
                Grant grant;
                try (KubernetesClient client = clients.open(access)) {
                    grant = grants.reconcile(client, changes);
                }
                String credentialRef = credentials.save(request.clusterId(), access.server(), access.caPem(),
                        grant.token(), grant.tokenSecret());
                return new Result.Authorized(request.requestId(), request.clusterId(), region, Result.now(), attempt,
                        grant.alreadyAuthorized(), grant.resources(), grant.tokenSecret(), credentialRef,
                        grant.kubernetesVersion());
            } catch (PrivateAccessDisabledException e) {
                LOG.debugf("request %s: private access of %s is off: %s", request.requestId(), request.clusterId(),
                        e.getMessage());
                return new Result.PrivateAccessDisabled(request.requestId(), request.clusterId(), region, Result.now(),
                        attempt, true, Result.PrivateAccessDisabled.MESSAGE);
            } catch (AuthorizationException e) {
                if (e.isTransient() && attempt < backoff.maxAttempts()) {
                    LOG.infof("request %s: attempt %d for %s failed (%s: %s); retrying", request.requestId(), attempt,
                            request.clusterId(), e.code(), e.getMessage());
                    pause(attempt);
                    continue;
                }
                return new Result.Failed(request.requestId(), request.clusterId(), region, attempt, e.code(),
                        e.getMessage());
            } catch (RuntimeException e) {
                // Unknown exceptions may quote what they saw: log the type only, never the message.
                LOG.errorf("request %s: unexpected %s while authorizing %s", request.requestId(),
                        e.getClass().getName(), request.clusterId());
                return new Result.Failed(request.requestId(), request.clusterId(), region, attempt,
                        FailureCode.INTERNAL, "unexpected internal error (" + e.getClass().getSimpleName() + ")");
            }
        }
    }

    private void pause(int attempt) {
        try {
            Thread.sleep(backoff.after(attempt).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // Shutting down: leave the record uncommitted so it is redelivered, rather than publish a false failure.
            throw new IllegalStateException("interrupted between attempts");
        }
    }
}
