package io.apigw.authorizer.sweep;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Acknowledgment;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.credential.CredentialRecord;
import io.apigw.authorizer.credential.CredentialStore;
import io.apigw.authorizer.delivery.KeyedDispatcher;
import io.apigw.authorizer.delivery.RecordJobs;
import io.apigw.authorizer.delivery.Sweeps;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.ReadResult;
import io.apigw.authorizer.request.RequestReader;
import io.apigw.authorizer.request.RequestType;
import io.apigw.authorizer.request.Trigger;
import io.apigw.authorizer.result.DeadLetters;
import io.apigw.authorizer.result.Result;
import io.apigw.authorizer.result.ResultPublisher;
import io.apigw.authorizer.worker.Authorizer;

/**
 * Runs the sweep's checks from the sweeps topic, in any replica, on a dispatcher of their own (its own small
 * concurrency and threads): a sweep never takes a slot from the console's requests. Each check is read-only and
 * published like any check with {@code trigger: sweep}; its verdict is recorded on the credential Secret it judged,
 * and with {@code authorizer.sweep.repair} a drifted or unusable cluster gets a conditional re-authorize.
 */
@ApplicationScoped
public class SweepWorker {

    private static final Logger LOG = Logger.getLogger(SweepWorker.class);
    private final RequestReader reader;
    private final Authorizer authorizer;
    private final CredentialStore credentials;
    private final ResultPublisher results;
    private final SweepRequests requests;
    private final DeadLetters deadLetters;
    private final KeyedDispatcher dispatcher;
    private final AuthorizerMetrics metrics;
    private final boolean repair;

    public SweepWorker(RequestReader reader, Authorizer authorizer, CredentialStore credentials,
            ResultPublisher results, SweepRequests requests, DeadLetters deadLetters,
            @Sweeps KeyedDispatcher dispatcher, AuthorizerMetrics metrics, AuthorizerConfig config) {
        this.reader = reader;
        this.authorizer = authorizer;
        this.credentials = credentials;
        this.results = results;
        this.requests = requests;
        this.deadLetters = deadLetters;
        this.dispatcher = dispatcher;
        this.metrics = metrics;
        this.repair = config.sweep().repair();
    }

    /** As the request topic's edge: acknowledged once the result (and a repair) is on the broker. */
    @Incoming("sweep-requests")
    @Acknowledgment(Acknowledgment.Strategy.MANUAL)
    public CompletionStage<Void> onRecord(Message<ConsumerRecord<String, byte[]>> message) {
        // A sweep sends one check per cluster, so a cluster's share is never used up but by a stray producer's
        // records; they are set aside as any record that is not a sweep's check is.
        return RecordJobs.admit(dispatcher, message, () -> handle(message.getPayload()),
                () -> setAside(message.getPayload(), "too many records of the cluster wait already", false));
    }

    private void handle(ConsumerRecord<String, byte[]> record) {
        long started = System.nanoTime();
        ReadResult read = reader.read(record.headers(), record.value());
        Optional<String> sweepId = header(record, SweepRequests.SWEEP_ID_HEADER)
                .filter(Sweeper.SWEEP_ID_PATTERN.asMatchPredicate());
        if (!(read instanceof ReadResult.Accepted accepted) || accepted.request().type() != RequestType.CHECK
                || sweepId.isEmpty()) {
            String why = read instanceof ReadResult.Rejected r ? r.reason()
                    : "not a sweep's check (a ClusterAuthorizationCheckRequested with " + SweepRequests.SWEEP_ID_HEADER
                            + ")";
            setAside(record, why, read instanceof ReadResult.Rejected r && r.oversize());
            return;
        }
        AuthorizationRequest request = accepted.request();
        Optional<CredentialRecord> judged;
        try {
            judged = credentials.record(request.clusterId());
        } catch (RuntimeException e) {
            judged = null;
        }
        if (judged != null && (judged.isEmpty() || judged.get().deauthorizing())) {
            // Deauthorized (or being deauthorized) since the sweep listed it: nothing to check, nothing to say.
            LOG.debugf("sweep %s: %s has no stored credential any more", sweepId.get(), request.clusterId());
            return;
        }
        Result result = authorizer.handle(request);
        SweepState state = SweepState.of(result);
        Optional<String> version = judged == null ? Optional.empty() : recorded(request, judged.get(), sweepId.get(),
                state);
        metrics.step("publish", () -> results.publish(result, Trigger.sweep));
        boolean repairing = repair && state.repairable() && version.isPresent();
        if (repairing) {
            try {
                requests.repair(sweepId.get(), request, version.get());
                metrics.repairSent();
            } catch (RuntimeException e) {
                // The check is answered; a repair not sent waits for the next sweep rather than stop the channel.
                repairing = false;
                LOG.warnf("sweep %s: the repair of %s could not be sent (%s); the next sweep tries again",
                        sweepId.get(), request.clusterId(), e.getClass().getSimpleName());
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        metrics.outcome("sweep", result.type(), result instanceof Result.Failed f ? f.code().name() : "none", took);
        if (state != SweepState.authorized) {
            LOG.infof("requestId=%s clusterId=%s type=sweep outcome=%s state=%s%s durationMs=%d", request.requestId(),
                    request.clusterId(), result.type(), state, repairing ? " repair=sent" : "", took.toMillis());
        }
    }

    private void setAside(ConsumerRecord<String, byte[]> record, String why, boolean oversize) {
        LOG.warnf("sweeps topic: record %s-%d@%d set aside: %s", record.topic(), record.partition(), record.offset(),
                why);
        if (oversize) {
            deadLetters.sendStub(record, why);
        } else {
            deadLetters.send(record, why);
        }
        metrics.deadLetter();
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

    private static Optional<String> header(ConsumerRecord<String, byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null || h.value() == null ? Optional.empty()
                : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }
}
