package io.apigw.authorizer.devtools;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Re-publishes selected dead letters to the topic they came from (their {@code dead-letter-topic} header): original
 * key, value and headers, without the {@code dead-letter-*} headers the worker added. Reads the dead-letter topic
 * without a consumer group, so nothing is committed and a run can be repeated. {@code scripts/replay-dlq.sh} runs it.
 */
public final class ReplayDeadLetters {

    static final String DEFAULT_DLQ = "apigw.tke-authorization.requests.dlq";
    private static final String PREFIX = "dead-letter-";

    /** What to replay; offsets are inclusive, {@code reason} and {@code key} match when set. */
    record Selection(String deadLetterTopic, long fromOffset, long toOffset, String reason, String key, int limit) {

        boolean matches(ConsumerRecord<byte[], byte[]> r) {
            return r.offset() >= fromOffset && r.offset() <= toOffset
                    && (reason == null || header(r, PREFIX + "reason").contains(reason))
                    && (key == null || key.equals(r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8)));
        }
    }

    private ReplayDeadLetters() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> opts = new HashMap<>();
        boolean dryRun = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--dry-run")) {
                dryRun = true;
            } else if (args[i].startsWith("--") && i + 1 < args.length) {
                opts.put(args[i].substring(2), args[++i]);
            } else {
                usage("unexpected argument " + args[i]);
            }
        }
        if (!opts.containsKey("bootstrap")) {
            usage("--bootstrap is required");
        }
        Properties client = new Properties();
        if (opts.containsKey("command-config")) {
            try (Reader r = Files.newBufferedReader(Path.of(opts.get("command-config")))) {
                client.load(r);
            }
        }
        client.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, opts.get("bootstrap"));
        Selection selection = new Selection(opts.getOrDefault("topic", DEFAULT_DLQ),
                Long.parseLong(opts.getOrDefault("from-offset", "0")),
                Long.parseLong(opts.getOrDefault("to-offset", Long.toString(Long.MAX_VALUE))),
                opts.get("reason"), opts.get("key"), Integer.parseInt(opts.getOrDefault("limit", "1000")));
        int n = run(client, selection, dryRun, System.out);
        System.out.println(dryRun ? "dry run: " + n + " record(s) would be replayed, nothing was sent"
                : n + " record(s) replayed");
    }

    private static void usage(String problem) {
        System.err.println(problem + "\nusage: scripts/replay-dlq.sh --bootstrap host:port [--command-config file]"
                + " [--topic " + DEFAULT_DLQ + "] [--from-offset N] [--to-offset N] [--reason text] [--key clusterId]"
                + " [--limit N] [--dry-run]");
        System.exit(2);
    }

    /** Prints one line per selected record (never its value) and, unless {@code dryRun}, sends it; returns the count. */
    static int run(Properties client, Selection selection, boolean dryRun, PrintStream out) {
        List<ConsumerRecord<byte[], byte[]>> selected = select(client, selection);
        for (ConsumerRecord<byte[], byte[]> r : selected) {
            out.printf("%s-%d@%d key=%s reason=%s -> %s%n", r.topic(), r.partition(), r.offset(),
                    r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8), header(r, PREFIX + "reason"),
                    header(r, PREFIX + "topic"));
        }
        if (!dryRun && !selected.isEmpty()) {
            Properties producer = (Properties) client.clone();
            producer.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(producer, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                for (ConsumerRecord<byte[], byte[]> r : selected) {
                    p.send(replayOf(r));
                }
                p.flush();
            }
        }
        return selected.size();
    }

    static ProducerRecord<byte[], byte[]> replayOf(ConsumerRecord<byte[], byte[]> r) {
        String topic = header(r, PREFIX + "topic");
        if (topic.isEmpty()) {
            throw new IllegalArgumentException(r.topic() + "-" + r.partition() + "@" + r.offset()
                    + " has no dead-letter-topic header: not written by the worker");
        }
        RecordHeaders headers = new RecordHeaders();
        for (Header h : r.headers()) {
            if (!h.key().startsWith(PREFIX)) {
                headers.add(h);
            }
        }
        return new ProducerRecord<>(topic, null, r.key(), r.value(), headers);
    }

    /** Every matching record present when the run starts, in partition then offset order. */
    private static List<ConsumerRecord<byte[], byte[]>> select(Properties client, Selection selection) {
        Properties config = (Properties) client.clone();
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "replay-dlq-" + UUID.randomUUID());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<byte[], byte[]>> selected = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(selection.deadLetterTopic()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            for (TopicPartition tp : partitions) {
                long start = Math.max(selection.fromOffset(), consumer.beginningOffsets(List.of(tp)).get(tp));
                long stop = Math.min(end.get(tp), selection.toOffset() == Long.MAX_VALUE ? Long.MAX_VALUE
                        : selection.toOffset() + 1);
                consumer.seek(tp, start);
                consumer.pause(partitions);
                consumer.resume(List.of(tp));
                while (consumer.position(tp) < stop && selected.size() < selection.limit()) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        if (r.offset() < stop && selection.matches(r) && selected.size() < selection.limit()) {
                            selected.add(r);
                        }
                    }
                }
            }
        }
        return selected;
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? "" : new String(h.value(), StandardCharsets.UTF_8);
    }
}
