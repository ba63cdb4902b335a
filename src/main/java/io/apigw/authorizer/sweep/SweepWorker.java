package io.apigw.authorizer.sweep;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.eclipse.microprofile.reactive.messaging.Acknowledgment;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

import io.apigw.authorizer.delivery.KeyedDispatcher;
import io.apigw.authorizer.delivery.RecordJobs;
import io.apigw.authorizer.delivery.Sweeps;
import io.apigw.authorizer.metrics.AuthorizerMetrics;
import io.apigw.authorizer.request.ReadResult;
import io.apigw.authorizer.request.RequestReader;
import io.apigw.authorizer.request.RequestType;
import io.apigw.authorizer.result.DeadLetters;

/**
 * The sweeps topic's edge: runs the sweep's checks, in any replica, on a dispatcher of their own (its own small
 * concurrency and threads), so a sweep never takes a slot from the console's requests; a record that is not a
 * sweep's check is set aside. Each check is read-only ({@link SweepCheck}).
 */
@ApplicationScoped
public class SweepWorker {

    private static final Logger LOG = Logger.getLogger(SweepWorker.class);
    private final RequestReader reader;
    private final SweepCheck check;
    private final DeadLetters deadLetters;
    private final KeyedDispatcher dispatcher;
    private final AuthorizerMetrics metrics;

    public SweepWorker(RequestReader reader, SweepCheck check, DeadLetters deadLetters,
            @Sweeps KeyedDispatcher dispatcher, AuthorizerMetrics metrics) {
        this.reader = reader;
        this.check = check;
        this.deadLetters = deadLetters;
        this.dispatcher = dispatcher;
        this.metrics = metrics;
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
        check.run(sweepId.get(), accepted.request(), started);
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

    private static Optional<String> header(ConsumerRecord<String, byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null || h.value() == null ? Optional.empty()
                : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }
}
