package io.apigw.authorizer.worker;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Acknowledgment;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.apigw.authorizer.delivery.Dispatchers;
import io.apigw.authorizer.delivery.KeyedDispatcher;
import io.apigw.authorizer.delivery.RecordJobs;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.AuthorizationRequest;
import io.apigw.authorizer.request.ReadResult;
import io.apigw.authorizer.request.RequestReader;
import io.apigw.authorizer.result.DeadLetters;
import io.apigw.authorizer.result.FailureCode;
import io.apigw.authorizer.result.Result;
import io.apigw.authorizer.result.ResultPublisher;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;

/**
 * The Kafka edge. Records of one cluster (one key) are handled one at a time in order, different clusters
 * concurrently ({@link KeyedDispatcher}). A record is acknowledged only after its result or dead letter is on the
 * broker; only then is its offset eligible for commit ({@code commit-strategy=answered}).
 */
@ApplicationScoped
public class AuthorizationWorker {

    private static final Logger LOG = Logger.getLogger(AuthorizationWorker.class);

    private final RequestReader reader;
    private final Authorizer authorizer;
    private final ResultPublisher results;
    private final DeadLetters deadLetters;
    private final KeyedDispatcher dispatcher;
    private final AuthorizerMetrics metrics;

    public AuthorizationWorker(RequestReader reader, Authorizer authorizer, ResultPublisher results,
            DeadLetters deadLetters, KeyedDispatcher dispatcher, AuthorizerMetrics metrics) {
        this.metrics = metrics;
        this.reader = reader;
        this.authorizer = authorizer;
        this.results = results;
        this.deadLetters = deadLetters;
        this.dispatcher = dispatcher;
    }

    /** Per-cluster order, acknowledgement after the answer, a nack that stops the channel: {@link RecordJobs}. */
    @Incoming("authorization-requests")
    @Acknowledgment(Acknowledgment.Strategy.MANUAL)
    public CompletionStage<Void> onRecord(Message<ConsumerRecord<String, byte[]>> message) {
        Context trace = Context.current();
        return RecordJobs.admit(dispatcher, message, () -> {
            try (Scope scope = trace.makeCurrent()) {
                handle(message.getPayload(), false);
            }
        }, () -> {
            try (Scope scope = trace.makeCurrent()) {
                handle(message.getPayload(), true);
            }
        });
    }

    /** {@code overflow}: too many requests of the cluster wait already; a valid one is answered without running. */
    private void handle(ConsumerRecord<String, byte[]> record, boolean overflow) {
        long started = System.nanoTime();
        ReadResult read = reader.read(record.headers(), record.value());
        if (read instanceof ReadResult.Accepted accepted) {
            Result result = overflow ? busy(accepted.request()) : authorizer.handle(accepted.request());
            metrics.step("publish", () -> results.publish(result, accepted.request().trigger()));
            outcome(accepted.request().type().name().toLowerCase(Locale.ROOT), result, started);
            return;
        }
        ReadResult.Rejected rejected = (ReadResult.Rejected) read;
        LOG.warnf("rejected record %s-%d@%d (requestId=%s): %s", record.topic(), record.partition(), record.offset(),
                rejected.requestId().orElse("-"), rejected.reason());
        if (rejected.oversize()) {
            deadLetters.sendStub(record, rejected.reason());
            metrics.deadLetter();
        } else if (rejected.unreadable()) {
            deadLetters.send(record, rejected.reason());
            metrics.deadLetter();
        }
        if (rejected.answerable()) {
            Result result = new Result.Failed(rejected.requestId().get(), rejected.clusterId().get(),
                    rejected.region().orElse(null), 0, FailureCode.INVALID_REQUEST, rejected.reason());
            results.publish(result);
            outcome("invalid", result, started);
        }
    }

    /** A request over its cluster's share of the waiting room: nothing is done, and a Retry later may run. */
    static Result busy(AuthorizationRequest request) {
        return new Result.Failed(request.requestId(), request.clusterId(), request.region().orElse(null), 0,
                FailureCode.CONFLICT, "the cluster's share of the waiting room (" + Dispatchers.QUEUED_PER_CLUSTER
                        + " requests, " + (Dispatchers.QUEUED_BYTES_PER_CLUSTER >> 10) + " KiB) is taken: its requests "
                        + "are waiting already; nothing was done: retry once they are answered");
    }

    /** One structured line per answered request (also as MDC fields for JSON logs), and its metrics. */
    private void outcome(String type, Result result, long started) {
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        String code = result instanceof Result.Failed f ? f.code().name() : "none";
        metrics.outcome(type, result.type(), code, took);
        MDC.put("requestId", result.requestId());
        MDC.put("clusterId", result.clusterId());
        MDC.put("outcome", result.type());
        MDC.put("code", code);
        MDC.put("durationMs", Long.toString(took.toMillis()));
        try {
            if (result instanceof Result.Failed f) {
                LOG.infof("requestId=%s clusterId=%s type=%s outcome=%s code=%s attempts=%d durationMs=%d message=%s",
                        f.requestId(), f.clusterId(), type, f.type(), f.code(), f.attempts(), took.toMillis(),
                        f.message());
            } else {
                LOG.infof("requestId=%s clusterId=%s type=%s outcome=%s durationMs=%d", result.requestId(),
                        result.clusterId(), type, result.type(), took.toMillis());
            }
        } finally {
            MDC.remove("requestId");
            MDC.remove("clusterId");
            MDC.remove("outcome");
            MDC.remove("code");
            MDC.remove("durationMs");
        }
    }
}
