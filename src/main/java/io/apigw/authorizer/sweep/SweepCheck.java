package io.apigw.authorizer.sweep;

import java.time.Duration;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.Trigger;
import io.apigw.authorizer.result.Result;
import io.apigw.authorizer.result.ResultPublisher;
import io.apigw.authorizer.worker.Authorizer;

/**
 * One sweep check of one cluster: the check as the console's, its result published with {@code trigger: sweep}, its
 * verdict recorded on the credential Secret it judged, and with {@code authorizer.sweep.repair} a conditional
 * re-authorize of a drifted or unusable cluster, bound to the credential version the verdict was recorded on.
 */
@ApplicationScoped
class SweepCheck {

    private static final Logger LOG = Logger.getLogger(SweepCheck.class);

    private final Authorizer authorizer;
    private final CredentialStore credentials;
    private final ResultPublisher results;
    private final SweepRequests requests;
    private final AuthorizerMetrics metrics;
    private final boolean repair;

    SweepCheck(Authorizer authorizer, CredentialStore credentials, ResultPublisher results, SweepRequests requests,
            AuthorizerMetrics metrics, AuthorizerConfig config) {
        this.authorizer = authorizer;
        this.credentials = credentials;
        this.results = results;
        this.requests = requests;
        this.metrics = metrics;
        this.repair = config.sweep().repair();
    }

    void run(String sweepId, AuthorizationRequest request, long started) {
        Optional<CredentialRecord> judged;
        try {
            judged = credentials.record(request.clusterId());
        } catch (RuntimeException e) {
            judged = null;
        }
        if (judged != null && (judged.isEmpty() || judged.get().deauthorizing())) {
            // Deauthorized (or being deauthorized) since the sweep listed it: nothing to check, nothing to say.
            LOG.debugf("sweep %s: %s has no stored credential any more", sweepId, request.clusterId());
            return;
        }
        Result result = authorizer.handle(request);
        SweepState state = SweepState.of(result);
        Optional<String> version = judged == null ? Optional.empty() : recorded(request, judged.get(), sweepId,
                state);
        metrics.step("publish", () -> results.publish(result, Trigger.sweep));
        boolean repairing = repair && state.repairable() && version.isPresent()
                && repairSent(sweepId, request, version.get());
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        metrics.outcome("sweep", result.type(), result instanceof Result.Failed f ? f.code().name() : "none", took);
        if (state != SweepState.authorized) {
            LOG.infof("requestId=%s clusterId=%s type=sweep outcome=%s state=%s%s durationMs=%d", request.requestId(),
                    request.clusterId(), result.type(), state, repairing ? " repair=sent" : "", took.toMillis());
        }
    }

    private boolean repairSent(String sweepId, AuthorizationRequest request, String version) {
        try {
            requests.repair(sweepId, request, version);
            metrics.repairSent();
            return true;
        } catch (RuntimeException e) {
            // The check is answered; a repair not sent waits for the next sweep rather than stop the channel.
            LOG.warnf("sweep %s: the repair of %s could not be sent (%s); the next sweep tries again", sweepId,
                    request.clusterId(), e.getClass().getSimpleName());
            return false;
        }
    }

    /** The verdict on the credential Secret; empty if it could not be recorded (the credential changed meanwhile). */
    private Optional<String> recorded(AuthorizationRequest request, CredentialRecord judged, String sweepId,
            SweepState state) {
        try {
            return credentials.recordSweep(request.clusterId(), judged, sweepId, state.name(),
                    state == SweepState.authorized);
        } catch (RuntimeException e) {
            LOG.warnf("sweep %s: the verdict on %s could not be recorded (%s); the next sweep checks it again",
                    sweepId, request.clusterId(), e.getClass().getSimpleName());
            return Optional.empty();
        }
    }
}
