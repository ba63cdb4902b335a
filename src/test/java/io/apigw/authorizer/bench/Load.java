package io.apigw.authorizer.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Sends requests as the console would (binary-mode CloudEvents keyed by cluster id) and reads every result from the
 * result topic as it arrives. End-to-end latency = the moment the harness hands a request to its producer until the
 * harness's consumer receives the result (both on this JVM's monotonic clock).
 */
final class Load implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What came back for one request. */
    record Received(long atNanos, String type, boolean alreadyAuthorized, String code, int attempts) {
    }

    private final String requestTopic;
    private final KafkaProducer<String, byte[]> producer;
    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
    private final Map<String, Received> received = new ConcurrentHashMap<>();
    private final AtomicLong sendErrors = new AtomicLong();
    private final Thread reader;
    private volatile boolean running = true;

    Load(String bootstrap, String requestTopic, String resultTopic) {
        this.requestTopic = requestTopic;
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.LINGER_MS_CONFIG, "0",
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5"), new StringSerializer(),
                new ByteArraySerializer());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "bench-reader-" + resultTopic,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "20",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000"), new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(resultTopic).stream()
                .map(p -> new TopicPartition(resultTopic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        this.reader = new Thread(() -> read(consumer), "bench-result-reader");
        reader.setDaemon(true);
        reader.start();
    }

    private void read(KafkaConsumer<String, byte[]> consumer) {
        try (consumer) {
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                    long now = System.nanoTime();
                    try {
                        JsonNode body = JSON.readTree(r.value());
                        Header type = r.headers().lastHeader("ce_type");
                        received.putIfAbsent(body.path("requestId").asText(), new Received(now,
                                type == null ? "?" : new String(type.value(), StandardCharsets.UTF_8),
                                body.path("alreadyAuthorized").asBoolean(false), body.path("code").asText(null),
                                body.path("attempts").asInt(0)));
                    } catch (Exception e) {
                        // not a result of ours
                    }
                }
            }
        }
    }

    /**
     * One request: its id, the cluster (the record key), its {@code ce_type}, and {@code bytes}: 0, or the size its
     * value and its headers are each padded to (a field of the value, a header the worker does not read).
     */
    record Request(String requestId, String clusterId, String type, int bytes) {
        static final String AUTHORIZE = "ClusterAuthorizationRequested";
        static final String CHECK = "ClusterAuthorizationCheckRequested";

        Request(String requestId, String clusterId) {
            this(requestId, clusterId, AUTHORIZE, 0);
        }
    }

    /**
     * Sends every request: at {@code ratePerSecond} on a fixed schedule (open loop: a slow worker does not slow the
     * sender), or as fast as the producer takes them when the rate is 0.
     */
    void send(List<Request> requests, double ratePerSecond) {
        long start = System.nanoTime();
        for (int i = 0; i < requests.size(); i++) {
            if (ratePerSecond > 0) {
                long due = start + (long) (i * 1e9 / ratePerSecond);
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            Request r = requests.get(i);
            String body = "{\"requestId\":\"" + r.requestId() + "\",\"clusterId\":\"" + r.clusterId()
                    + "\",\"region\":\"ap-guangzhou\",\"appId\":\"1250000000\",\"requestedBy\":\"bench\"}";
            List<Header> headers = new ArrayList<>(List.of(header("ce_specversion", "1.0"),
                    header("ce_type", r.type()), header("ce_id", "evt-" + r.requestId()),
                    header("ce_source", "/apigw/console"), header("ce_subject", r.clusterId()),
                    header("content-type", "application/json")));
            if (r.bytes() > 0) {
                // Each just under the limit: the value with a field the reader ignores, the headers with one it skips.
                String field = ",\"pad\":\"";
                body = body.substring(0, body.length() - 1) + field
                        + "x".repeat(Math.max(0, r.bytes() - body.length() - field.length() - 1)) + "\"}";
                String key = "x-bench-pad";
                // As the worker counts them: names and values (all ASCII here).
                long have = headers.stream().mapToLong(h -> h.key().length() + h.value().length).sum() + key.length();
                headers.add(header(key, "x".repeat((int) Math.max(0, r.bytes() - have))));
            }
            sentAt.put(r.requestId(), System.nanoTime());
            producer.send(new ProducerRecord<>(requestTopic, null, r.clusterId(),
                    body.getBytes(StandardCharsets.UTF_8), headers), (md, e) -> {
                        if (e != null) {
                            sendErrors.incrementAndGet();
                        }
                    });
        }
        producer.flush();
    }

    /** Waits until every request has a result, or the time is up; returns how many are still missing. */
    int await(List<Request> requests, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        int missing;
        while ((missing = missing(requests)) > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(20_000_000);
        }
        return missing;
    }

    private int missing(List<Request> requests) {
        int n = 0;
        for (Request r : requests) {
            if (!received.containsKey(r.requestId())) {
                n++;
            }
        }
        return n;
    }

    Long sentAt(String requestId) {
        return sentAt.get(requestId);
    }

    Received result(String requestId) {
        return received.get(requestId);
    }

    long sendErrors() {
        return sendErrors.get();
    }

    static List<Request> requests(String prefix, List<Fleet.Member> clusters, int total) {
        List<Request> out = new ArrayList<>();
        if (clusters.isEmpty()) {
            return out;
        }
        for (int round = 0; out.size() < total; round++) {
            for (Fleet.Member m : clusters) {
                if (out.size() == total) {
                    break;
                }
                out.add(new Request(prefix + "-" + round + "-" + m.clusterId(), m.clusterId()));
            }
        }
        return out;
    }

    private static Header header(String k, String v) {
        return new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        reader.join(5000);
        producer.close(Duration.ofSeconds(5));
    }
}
