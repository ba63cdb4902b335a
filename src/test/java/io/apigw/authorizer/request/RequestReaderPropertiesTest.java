package io.apigw.authorizer.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Pattern;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.config.AuthorizerConfig.DirectoryType;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * Property-based fuzzing of {@link RequestReader#read}: random bytes, valid requests mutated at the JSON, byte and
 * header level, CloudEvents envelopes with missing or conflicting attributes, and injected cluster ids. Whatever
 * comes in, the reader must answer within a second, throw nothing, and return either a request whose every field
 * satisfies the contract's patterns (section 3) or a rejection with a short printable reason that is dead-lettered
 * or answered (never silently dropped).
 * <p>
 * Generation is seeded and every failure names its seed and try: rerun with {@code -Dfuzz.seed=<seed>} to get the
 * same inputs. The harness is our own, on plain Jupiter, rather than jqwik: jqwik 1.10+ carries a clause asking not
 * to be used with AI coding agents (which write parts of this project), and it is built for JUnit Platform 1.x while
 * Quarkus manages Platform 6.
 */
class RequestReaderPropertiesTest {

    static final long SEED = Long.getLong("fuzz.seed", new SecureRandom().nextLong());
    static final int MAX_BYTES = 65536;
    static final int SMALL_MAX_BYTES = 1024;
    static final Duration BOUND = Duration.ofSeconds(1);

    // The contract's patterns (section 3), written out again so the reader is checked against the contract, not itself.
    static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    static final Pattern CLUSTER_ID = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    static final Pattern REGION = Pattern.compile("[a-z]+(-[a-z0-9]+)+");
    static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    static final int MAX_REASON = 300;
    static final int MAX_ECHOED_ID_BYTES = 1024;
    static final Pattern SIZE_REASON = Pattern.compile("record of (\\d+) bytes exceeds the limit of (\\d+)");

    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    final RequestReader kubeconfigReader = new RequestReader(MAX_BYTES, DirectoryType.kubeconfig);
    final RequestReader tkeReader = new RequestReader(MAX_BYTES, DirectoryType.tke);

    enum Mode {
        PLAIN, BINARY, STRUCTURED
    }

    /** One generated record, and which directory's reader reads it. */
    record Input(String label, DirectoryType directory, RecordHeaders headers, byte[] value) {

        String describe() {
            StringBuilder b = new StringBuilder(label).append(" [").append(directory).append("] headers={");
            for (Header h : headers) {
                b.append(escape(h.key(), 40)).append('=')
                        .append(h.value() == null ? "null" : escape(h.value(), 80)).append("; ");
            }
            b.append("} value(").append(value == null ? "null" : value.length + " bytes").append(")=")
                    .append(value == null ? "" : escape(value, 400));
            return b.toString();
        }
    }

    // ------------------------------------------------------------------------------------------------ properties

    @Test
    void validRequestsInEveryModeAreAcceptedWithExactlyTheirFields() {
        forAll("valid-round-trip", 400, r -> {
            Mode mode = pick(r, Mode.values());
            DirectoryType dir = pick(r, DirectoryType.values());
            ObjectNode data = validData(r, dir == DirectoryType.tke || r.nextBoolean());
            return envelope(r, mode, dir, data, data.get("clusterId").textValue());
        }, (in, result) -> {
            assertThat(result).isInstanceOf(ReadResult.Accepted.class);
            ObjectNode data = sentData(in);
            AuthorizationRequest q = ((ReadResult.Accepted) result).request();
            assertThat(q.requestId()).isEqualTo(data.get("requestId").textValue());
            assertThat(q.clusterId()).isEqualTo(data.get("clusterId").textValue());
            assertThat(q.region()).isEqualTo(Optional.ofNullable(data.get("region")).map(JsonNode::asText));
            assertThat(q.appId()).isEqualTo(Optional.ofNullable(data.get("appId")).map(JsonNode::asText));
            assertThat(q.requestedBy()).isEqualTo(Optional.ofNullable(data.get("requestedBy")).map(JsonNode::asText));
        });
    }

    @Test
    void randomBytesAreRejectedCleanly() {
        forAll("random-bytes", 1000, r -> {
            byte[] value = new byte[r.nextInt(4) == 0 ? r.nextInt(4) : r.nextInt(3000)];
            r.nextBytes(value);
            if (r.nextBoolean() && value.length > 0) {
                value[0] = (byte) '{'; // get past the first byte now and then
            }
            RecordHeaders headers = r.nextBoolean() ? new RecordHeaders() : randomHeaders(r);
            return new Input("random bytes", pick(r, DirectoryType.values()), headers, r.nextInt(50) == 0 ? null : value);
        }, (in, result) -> assertWellFormed(in, result));
    }

    @Test
    void mutatedJsonNeverYieldsAnInvalidRequest() {
        forAll("mutated-json", 1000, r -> {
            Mode mode = pick(r, Mode.values());
            DirectoryType dir = pick(r, DirectoryType.values());
            ObjectNode data = validData(r, r.nextInt(4) != 0);
            List<String> applied = new ArrayList<>();
            for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                applied.add(mutateField(r, data));
            }
            Input in = envelope(r, mode, dir, data, r.nextBoolean() ? textOrNull(data, "clusterId") : null);
            byte[] value = in.value();
            for (int i = 0, n = r.nextInt(3); i < n; i++) {
                String what = pick(r, "none", "flip", "invalid-utf8", "truncate", "trailing", "bom", "raw-control",
                        "duplicate-field");
                value = mutateBytes(r, value, what);
                applied.add(what);
            }
            return new Input(in.label() + " mutated " + applied, dir, in.headers(), value);
        }, (in, result) -> assertWellFormed(in, result));
    }

    @Test
    void headerInjectionIsRejectedOrHarmless() {
        forAll("headers", 800, r -> {
            DirectoryType dir = pick(r, DirectoryType.values());
            ObjectNode data = validData(r, true);
            Input in = envelope(r, r.nextInt(4) == 0 ? Mode.STRUCTURED : Mode.BINARY, dir, data,
                    r.nextBoolean() ? data.get("clusterId").textValue() : null);
            List<String> applied = new ArrayList<>();
            RecordHeaders headers = in.headers();
            for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                applied.add(mutateHeaders(r, headers, data));
            }
            return new Input(in.label() + " headers " + applied, dir, headers, in.value());
        }, (in, result) -> {
            assertWellFormed(in, result);
            assertSubjectAgrees(in, result);
        });
    }

    @Test
    void cloudEventsWithMissingOrConflictingAttributesAreRejectedOrConsistent() {
        forAll("cloudevents", 800, r -> {
            DirectoryType dir = pick(r, DirectoryType.values());
            ObjectNode data = validData(r, true);
            String clusterId = data.get("clusterId").textValue();
            boolean structured = r.nextBoolean();
            List<String> applied = new ArrayList<>();
            RecordHeaders headers = new RecordHeaders();
            byte[] value;
            if (structured) {
                headers.add(header("content-type", pick(r, "application/cloudevents+json",
                        "application/cloudevents+json; charset=UTF-8", "Application/CloudEvents+JSON")));
                ObjectNode event = structuredEvent(data, clusterId);
                for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                    applied.add(mutateEvent(r, event, headers, data));
                }
                value = bytes(event.toString());
            } else {
                binaryHeaders(headers, r, clusterId);
                for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                    applied.add(mutateHeaders(r, headers, data));
                }
                value = bytes(data.toString());
            }
            return new Input((structured ? "structured" : "binary") + " " + applied, dir, headers, value);
        }, (in, result) -> {
            assertWellFormed(in, result);
            assertSubjectAgrees(in, result);
        });
    }

    static final List<String> INJECTED_IDS = List.of("../", "..", "../../etc/passwd", "cls-../x", "%2e%2e", "cls-%2e",
            "cls%2fa", "cls a", " cls-a", "cls-a ", "cls-a\t", "CLS-A", "cls-A", "Cls-a", "-cls-a", "cls-a-", "-",
            "a".repeat(64), "cls-" + "x".repeat(60), "cls_a", "cls.a", "cls/a", "cls\\a", "cls:a", "cls-a\n",
            "cls-a\r\nce_type: Injected", "cls-a\u0000", "\u0000", "cls-\u202eab", "cls-\u200ba", "ｃｌｓ-ａ",
            "\u0441ls-a" /* Cyrillic es */, "cls-a%00", "cls-a;rm -rf /", "${jndi:ldap://127.0.0.1/a}", "", " ",
            "cls-\u00e9", "cls-a\ud800", "apigw-system", "kube-system/../x", "*", "cls-a,cls-b", "cls-a\"",
            // valid ones, so the property also sees the accepting side
            "a", "0", "a".repeat(63), "cls--a", "9-9", "cls-7xq2m9ab");

    @Test
    void injectedClusterIdsAreAcceptedOnlyWhenTheyAreDnsLabelsAndNeverNormalised() {
        forAll("cluster-ids", 600, r -> {
            String id = r.nextInt(3) == 0 ? randomPrintable(r, 1 + r.nextInt(70)) : pick(r, INJECTED_IDS);
            if (r.nextInt(5) == 0) {
                id = id + pick(r, INJECTED_IDS); // combinations
            }
            DirectoryType dir = pick(r, DirectoryType.values());
            ObjectNode data = validData(r, true);
            data.put("clusterId", id);
            Mode mode = pick(r, Mode.values());
            String subject = r.nextBoolean() ? id : null;
            return envelope(r, mode, dir, data, subject);
        }, (in, result) -> {
            assertWellFormed(in, result);
            String sent = sentData(in).get("clusterId").textValue();
            if (CLUSTER_ID.matcher(sent).matches()) {
                assertThat(result).as("a valid DNS label is accepted").isInstanceOf(ReadResult.Accepted.class);
            }
            if (result instanceof ReadResult.Accepted a) {
                assertThat(a.request().clusterId()).as("accepted exactly as sent, not trimmed or lower-cased")
                        .isEqualTo(sent);
            } else {
                ReadResult.Rejected j = (ReadResult.Rejected) result;
                j.clusterId().ifPresent(v -> assertThat(v).as("echoed exactly as sent").isEqualTo(sent));
                if (j.reason().startsWith("clusterId")) {
                    assertThat(j.clusterId().isPresent()).as("echoed exactly when bounded").isEqualTo(echoable(sent));
                }
            }
        });
    }

    @Test
    void injectedRequestIdsAreAcceptedOnlyWhenTheyMatchTheContract() {
        forAll("request-ids", 500, r -> {
            String id = r.nextInt(3) == 0 ? randomPrintable(r, 1 + r.nextInt(140))
                    : pick(r, INJECTED_IDS) + (r.nextBoolean() ? "" : "x".repeat(r.nextInt(130)));
            ObjectNode data = validData(r, true);
            data.put("requestId", id);
            return envelope(r, pick(r, Mode.values()), DirectoryType.kubeconfig, data, null);
        }, (in, result) -> {
            assertWellFormed(in, result);
            String sent = sentData(in).get("requestId").textValue();
            if (result instanceof ReadResult.Accepted a) {
                assertThat(a.request().requestId()).isEqualTo(sent);
            } else {
                assertThat(REQUEST_ID.matcher(sent).matches()).as("only an invalid requestId is refused").isFalse();
                assertThat(((ReadResult.Rejected) result).unreadable()).as("no id to answer: dead-lettered").isTrue();
            }
        });
    }

    @Test
    void recordsLargerThanTheLimitAreRejectedForTheirSizeWhateverTheyHold() {
        RequestReader small = new RequestReader(SMALL_MAX_BYTES, DirectoryType.kubeconfig);
        forAll(small, "oversized", 300, r -> {
            int size = SMALL_MAX_BYTES + 1 + (r.nextInt(4) == 0 ? 0 : r.nextInt(SMALL_MAX_BYTES * 4));
            byte[] value;
            String label;
            switch (r.nextInt(3)) {
                case 0 -> {
                    // A perfectly valid request, padded with JSON whitespace.
                    Input valid = envelope(r, pick(r, Mode.values()), DirectoryType.kubeconfig, validData(r, true), null);
                    value = pad(valid.value(), size);
                    return new Input("valid but padded " + valid.label(), DirectoryType.kubeconfig, valid.headers(),
                            value);
                }
                case 1 -> {
                    value = new byte[size];
                    r.nextBytes(value);
                    label = "random";
                }
                default -> {
                    value = bytes("{\"requestId\":\"r\",\"clusterId\":\"cls-a\",\"x\":\"" + "y".repeat(size) + "\"}");
                    label = "long field";
                }
            }
            return new Input(label, DirectoryType.kubeconfig, r.nextBoolean() ? new RecordHeaders() : randomHeaders(r),
                    value);
        }, (in, result) -> {
            assertWellFormed(in, result);
            assertThat(result).isInstanceOf(ReadResult.Rejected.class);
            ReadResult.Rejected j = (ReadResult.Rejected) result;
            assertThat(j.reason()).matches(SIZE_REASON);
            var m = SIZE_REASON.matcher(j.reason());
            assertThat(m.matches()).isTrue();
            assertThat(Integer.parseInt(m.group(1))).isEqualTo(in.value().length);
            assertThat(Integer.parseInt(m.group(2))).isEqualTo(SMALL_MAX_BYTES);
            assertThat(j.unreadable()).isTrue();
            assertThat(j.requestId()).isEmpty();
        });
    }

    @Test
    void aValidRecordOfExactlyTheLimitIsNotRejectedForItsSize() {
        RequestReader small = new RequestReader(SMALL_MAX_BYTES, DirectoryType.kubeconfig);
        byte[] value = pad(bytes(validData(new Random(SEED), true).toString()), SMALL_MAX_BYTES);
        assertThat(value).hasSize(SMALL_MAX_BYTES);
        assertThat(small.read(new RecordHeaders(), value)).isInstanceOf(ReadResult.Accepted.class);
    }

    /** Media types are case-insensitive (RFC 9110 8.3.1): the reader must not depend on the JVM's default locale. */
    @Test
    void upperCaseMediaTypesAreUnderstoodInTheRootLocale() {
        assertUpperCaseMediaTypesAccepted();
    }

    @Test
    void upperCaseMediaTypesAreUnderstoodInATurkishLocale() {
        Locale before = Locale.getDefault();
        try {
            Locale.setDefault(Locale.forLanguageTag("tr-TR"));
            assertUpperCaseMediaTypesAccepted();
        } finally {
            Locale.setDefault(before);
        }
    }

    private void assertUpperCaseMediaTypesAccepted() {
        ObjectNode data = validData(new Random(SEED), true);
        RecordHeaders structured = new RecordHeaders();
        structured.add(header("content-type", "APPLICATION/CLOUDEVENTS+JSON"));
        assertThat(kubeconfigReader.read(structured, bytes(structuredEvent(data, null).toString())))
                .isInstanceOf(ReadResult.Accepted.class);
        RecordHeaders binary = new RecordHeaders();
        binaryHeaders(binary, new Random(SEED), null);
        replace(binary, "ce_datacontenttype", "APPLICATION/JSON");
        assertThat(kubeconfigReader.read(binary, bytes(data.toString()))).isInstanceOf(ReadResult.Accepted.class);
    }

    // ------------------------------------------------------------------------------------------------ invariants

    private static void assertWellFormed(Input in, ReadResult result) {
        assertThat(result).as("a result").isNotNull();
        if (result instanceof ReadResult.Accepted accepted) {
            AuthorizationRequest q = accepted.request();
            assertThat(q).isNotNull();
            assertThat(q.requestId()).matches(REQUEST_ID);
            assertThat(q.clusterId()).matches(CLUSTER_ID);
            assertThat(q.region()).isNotNull();
            q.region().ifPresent(v -> assertThat(v).matches(REGION));
            if (in.directory() == DirectoryType.tke) {
                assertThat(q.region()).as("the tke directory needs a region").isPresent();
            }
            assertThat(q.appId()).isNotNull();
            q.appId().ifPresent(v -> assertThat(v).matches(APP_ID));
            assertThat(q.requestedBy()).isNotNull();
            q.requestedBy().ifPresent(v -> assertThat(v.length()).isLessThanOrEqualTo(256));
            return;
        }
        assertThat(result).isInstanceOf(ReadResult.Rejected.class);
        ReadResult.Rejected j = (ReadResult.Rejected) result;
        assertThat(j.reason()).as("reason").isNotBlank();
        assertThat(j.reason().length()).as("reason length").isLessThanOrEqualTo(MAX_REASON);
        assertThat(j.reason().chars().allMatch(c -> c >= 0x20 && c < 0x7f))
                .as("reason is printable ASCII (it goes into a Kafka header and a log line): %s", escape(j.reason(), 400))
                .isTrue();
        // Ids that break their patterns are echoed (to answer the request), but only bounded ones, and dead-lettered.
        j.requestId().ifPresent(v -> assertThat(REQUEST_ID.matcher(v).matches() || j.unreadable() && echoable(v))
                .as("requestId %s", escape(v, 80)).isTrue());
        j.clusterId().ifPresent(v -> assertThat(CLUSTER_ID.matcher(v).matches() || j.unreadable() && echoable(v))
                .as("clusterId %s", escape(v, 80)).isTrue());
        j.region().ifPresent(v -> assertThat(v).matches(REGION));
        assertThat(j.unreadable() || j.answerable())
                .as("a rejection that is neither dead-lettered nor answered would drop the record").isTrue();
    }

    /** The contract's bound on an id that a Failed/INVALID_REQUEST may echo: 1 KiB of UTF-8, nothing invisible. */
    static boolean echoable(String id) {
        return !id.isEmpty() && id.getBytes(StandardCharsets.UTF_8).length <= MAX_ECHOED_ID_BYTES
                && id.codePoints().noneMatch(c -> switch (Character.getType(c)) {
                    case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.UNASSIGNED,
                            Character.PRIVATE_USE, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> true;
                    default -> false;
                });
    }

    /** An accepted CloudEvent whose subject is set names the same cluster as its data. */
    private static void assertSubjectAgrees(Input in, ReadResult result) {
        if (!(result instanceof ReadResult.Accepted a)) {
            return;
        }
        for (Header h : in.headers()) {
            if (h.key().equals("ce_subject") && h.value() != null) {
                assertThat(new String(h.value(), StandardCharsets.UTF_8)).isEqualTo(a.request().clusterId());
            }
        }
        JsonNode event = parseOrNull(in.value());
        if (event != null && event.has("data") && event.get("subject") != null && event.get("subject").isTextual()) {
            assertThat(event.get("subject").textValue()).isEqualTo(a.request().clusterId());
        }
    }

    // ------------------------------------------------------------------------------------------------ harness

    private void forAll(String property, int tries, Function<Random, Input> generator,
            BiConsumer<Input, ReadResult> check) {
        forAll(null, property, tries, generator, check);
    }

    private void forAll(RequestReader fixed, String property, int tries, Function<Random, Input> generator,
            BiConsumer<Input, ReadResult> check) {
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int i = 0; i < tries; i++) {
            Random r = new Random(SEED * 31 + property.hashCode() * 1_000_003L + i);
            Input in = generator.apply(r);
            RequestReader reader = fixed != null ? fixed
                    : in.directory() == DirectoryType.tke ? tkeReader : kubeconfigReader;
            String where = "property '" + property + "', try " + i + " (rerun with -Dfuzz.seed=" + SEED + "): ";
            ReadResult result;
            try {
                result = assertTimeoutPreemptively(BOUND, () -> reader.read(in.headers(), in.value()),
                        () -> where + "no answer within " + BOUND.toMillis() + " ms for " + in.describe());
            } catch (AssertionError e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError(where + "read threw " + t + " for " + in.describe(), t);
            }
            outcomes.merge(result instanceof ReadResult.Rejected j
                    ? (j.unreadable() ? "dead-lettered" : "answered") + ": " + j.reason().replaceAll("[0-9]+", "N")
                            .replaceAll(" \\(.*", "").replaceAll("(must be|is not|unsupported [a-zA-Z ]+|header) .*", "$1 ...")
                    : "accepted", 1, Integer::sum);
            try {
                check.accept(in, result);
            } catch (AssertionError e) {
                throw new AssertionError(where + e.getMessage() + "\n  input: " + in.describe() + "\n  result: "
                        + escape(String.valueOf(result), 600), e);
            }
        }
        // What the tries came to, so a generator that only ever produces one kind of input shows up in the output.
        System.out.println("property '" + property + "' (seed " + SEED + "): " + tries + " tries: " + outcomes);
    }

    // ------------------------------------------------------------------------------------------------ generators

    static final String ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
    static final String LABEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

    static ObjectNode validData(Random r, boolean withRegion) {
        ObjectNode data = NODES.objectNode();
        data.put("requestId", requestId(r));
        data.put("clusterId", clusterId(r));
        if (withRegion) {
            data.put("region", region(r));
        }
        if (r.nextBoolean()) {
            if (r.nextBoolean()) {
                data.put("appId", 1_250_000_000L + r.nextInt(1_000_000));
            } else {
                data.put("appId", randomFrom(r, "ABCxyz019_-", 1 + r.nextInt(64)));
            }
        }
        if (r.nextBoolean()) {
            data.put("requestedBy", r.nextBoolean() ? String.valueOf(100_000_000_000L + r.nextInt(1_000_000))
                    : randomPrintable(r, r.nextInt(257)));
        }
        if (r.nextInt(4) == 0) {
            data.set("extra", randomJson(r, 3));
        }
        return data;
    }

    static String requestId(Random r) {
        int len = switch (r.nextInt(6)) {
            case 0 -> 1;
            case 1 -> 128;
            default -> 1 + r.nextInt(40);
        };
        return randomFrom(r, ID_CHARS, len);
    }

    static String clusterId(Random r) {
        if (r.nextInt(3) != 0) {
            return "cls-" + randomFrom(r, LABEL_CHARS, 8);
        }
        int len = r.nextInt(4) == 0 ? 63 : 1 + r.nextInt(63);
        StringBuilder b = new StringBuilder(randomFrom(r, LABEL_CHARS, 1));
        for (int i = 1; i < len - 1; i++) {
            b.append(r.nextInt(6) == 0 ? '-' : LABEL_CHARS.charAt(r.nextInt(LABEL_CHARS.length())));
        }
        if (len > 1) {
            b.append(randomFrom(r, LABEL_CHARS, 1));
        }
        return b.toString();
    }

    static String region(Random r) {
        if (r.nextBoolean()) {
            return pick(r, "ap-guangzhou", "ap-shanghai", "ap-beijing", "na-siliconvalley", "eu-frankfurt", "ap-hongkong");
        }
        StringBuilder b = new StringBuilder(randomFrom(r, "abcdefghijklmnopqrstuvwxyz", 1 + r.nextInt(5)));
        for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
            b.append('-').append(randomFrom(r, LABEL_CHARS, 1 + r.nextInt(8)));
        }
        return b.toString();
    }

    /** Valid data wrapped as the given mode would carry it. */
    static Input envelope(Random r, Mode mode, DirectoryType dir, ObjectNode data, String subject) {
        RecordHeaders headers = new RecordHeaders();
        if (r.nextInt(3) == 0) {
            headers.add(header("traceparent", "00-" + randomFrom(r, "0123456789abcdef", 32) + "-0000000000000001-01"));
        }
        return switch (mode) {
            case PLAIN -> {
                if (r.nextBoolean()) {
                    headers.add(header("content-type", "application/json"));
                }
                yield new Input("plain", dir, headers, bytes(data.toString()));
            }
            case BINARY -> {
                binaryHeaders(headers, r, subject);
                yield new Input("binary", dir, headers, bytes(data.toString()));
            }
            case STRUCTURED -> {
                headers.add(header("content-type", "application/cloudevents+json; charset=UTF-8"));
                yield new Input("structured", dir, headers, bytes(structuredEvent(data, subject).toString()));
            }
        };
    }

    static void binaryHeaders(RecordHeaders headers, Random r, String subject) {
        headers.add(header("ce_specversion", "1.0"));
        headers.add(header("ce_type", "ClusterAuthorizationRequested"));
        headers.add(header("ce_id", "evt-" + r.nextInt(1_000_000)));
        headers.add(header("ce_source", "/apigw/console"));
        if (subject != null) {
            headers.add(header("ce_subject", subject));
        }
        if (r.nextBoolean()) {
            headers.add(header("ce_datacontenttype", "application/json"));
        }
        if (r.nextBoolean()) {
            headers.add(header("content-type", "application/json"));
        }
    }

    static ObjectNode structuredEvent(ObjectNode data, String subject) {
        ObjectNode event = NODES.objectNode();
        event.put("specversion", "1.0");
        event.put("type", "ClusterAuthorizationRequested");
        event.put("id", "evt-1");
        event.put("source", "/apigw/console");
        if (subject != null) {
            event.put("subject", subject);
        }
        event.put("datacontenttype", "application/json");
        event.set("data", data);
        return event;
    }

    static final String[] FIELDS = { "requestId", "clusterId", "region", "appId", "requestedBy" };

    /** Changes one field of the data; says what it did. */
    static String mutateField(Random r, ObjectNode data) {
        String field = r.nextInt(8) == 0 ? randomPrintable(r, 1 + r.nextInt(10)) : pick(r, FIELDS);
        int what = r.nextInt(14);
        switch (what) {
            case 0 -> data.remove(field);
            case 1 -> data.putNull(field);
            case 2 -> data.put(field, r.nextInt());
            case 3 -> data.put(field, new BigInteger(60 + r.nextInt(20), r));
            case 4 -> data.put(field, r.nextDouble() * 1e9);
            case 5 -> data.put(field, r.nextBoolean());
            case 6 -> data.set(field, randomJson(r, 3));
            case 7 -> data.put(field, "x".repeat(r.nextInt(4) == 0 ? 60_000 : 1 + r.nextInt(5000)));
            case 8 -> data.put(field, nastyUnicode(r));
            case 9 -> data.put(field, pick(r, INJECTED_IDS));
            case 10 -> data.set(field, deep(r, 10 + r.nextInt(50)));
            case 11 -> {
                JsonNode v = data.get(field);
                String s = v == null ? "" : v.asText();
                data.put(field, pick(r, s.toUpperCase(Locale.ROOT), " " + s, s + " ", s + "-", "-" + s, s + "\n",
                        s + "\u0000", s.replace('-', '_'), s + "%2e%2e/"));
            }
            case 12 -> data.put(field, "");
            default -> data.set(field, NODES.arrayNode().add(data.has(field) ? data.get(field) : NODES.textNode("a")));
        }
        return field + ":" + what;
    }

    static byte[] mutateBytes(Random r, byte[] value, String what) {
        if (value.length == 0) {
            return value;
        }
        int at = r.nextInt(value.length);
        return switch (what) {
            case "flip" -> {
                byte[] v = value.clone();
                v[at] = (byte) r.nextInt(256);
                yield v;
            }
            case "invalid-utf8" -> insert(value, at, pick(r, new byte[] { (byte) 0xC0, (byte) 0x80 },
                    new byte[] { (byte) 0xFF }, new byte[] { (byte) 0xED, (byte) 0xA0, (byte) 0x80 },
                    new byte[] { (byte) 0xE2, (byte) 0x82 }, new byte[] { (byte) 0xF8, (byte) 0x88, (byte) 0x80 },
                    new byte[] { (byte) 0x80 }, new byte[] { (byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80 }));
            case "truncate" -> Arrays.copyOf(value, at);
            case "trailing" -> concat(value, bytes(pick(r, "}", " x", "{}", "\u0000", "\n{\"a\":1}", "]")));
            case "bom" -> concat(pick(r, new byte[] { (byte) 0xEF, (byte) 0xBB, (byte) 0xBF },
                    new byte[] { (byte) 0xFE, (byte) 0xFF }, new byte[] { (byte) 0xFF, (byte) 0xFE }), value);
            case "raw-control" -> insert(value, at, new byte[] { (byte) pickInt(r, 0x00, 0x1b, 0x0a, 0x0d, 0x7f, 0x08) });
            case "duplicate-field" -> {
                String s = new String(value, StandardCharsets.UTF_8);
                int brace = s.lastIndexOf("{\"requestId\"");
                yield brace < 0 ? value
                        : bytes(s.substring(0, brace + 1) + "\"" + pick(r, FIELDS) + "\":\"" + pick(r, "cls-other", "r-2")
                                + "\"," + s.substring(brace + 1));
            }
            default -> value;
        };
    }

    /** Mutates the CloudEvents headers of a binary or structured record. */
    static String mutateHeaders(Random r, RecordHeaders headers, ObjectNode data) {
        String clusterId = textOrNull(data, "clusterId");
        int what = r.nextInt(16);
        switch (what) {
            case 0 -> headers.remove(pick(r, "ce_specversion", "ce_type", "ce_id", "ce_source"));
            case 1 -> headers.add(header(pick(r, "ce_specversion", "ce_type", "ce_id", "ce_source", "ce_subject"),
                    pick(r, "1.0", "ClusterAuthorizationRequested", "x")));
            case 2 -> replace(headers, "ce_specversion", pick(r, "0.3", "1", "1.0 ", " 1.0", "1.0\r\n", "", "１.０",
                    "1.0\u0000", "1.1"));
            case 3 -> replace(headers, "ce_type", pick(r, "ClusterAuthorizationRequested\r\nce_type: Other",
                    "clusterauthorizationrequested", "Other", "ClusterAuthorizationRequested ", "",
                    "ClusterAuthorizationRequested\u0000"));
            case 4 -> replace(headers, "ce_subject", pick(r, "cls-other", clusterId == null ? "x" : clusterId.toUpperCase(Locale.ROOT),
                    (clusterId == null ? "" : clusterId) + "\u0000", (clusterId == null ? "" : clusterId) + "\r\n",
                    "../" + clusterId, ""));
            case 5 -> replace(headers, "ce_datacontenttype", pick(r, "text/plain", "application/json; charset=utf-8",
                    "APPLICATION/JSON", "application/xml", "application/json\r\nX: y", "", "application/jsonx"));
            case 6 -> headers.add(header("content-type", pick(r, "application/cloudevents+json",
                    "application/cloudevents-batch+json", "APPLICATION/CLOUDEVENTS+JSON", "text/plain")));
            case 7 -> headers.add(pick(r, "ce_id", "ce_source", "ce_x", "content-type", "ce_subject"),
                    "v".repeat(1000 + r.nextInt(4000)).getBytes(StandardCharsets.UTF_8));
            case 8 -> headers.add(new RecordHeader(pick(r, "ce_id", "ce_source", "ce_subject", "content-type", "ce_x"),
                    (byte[]) null));
            case 9 -> headers.add(pick(r, "ce_id", "ce_source", "ce_subject", "content-type", "ce_x", "other"),
                    pick(r, new byte[] { (byte) 0xFF, 'a' }, new byte[] { (byte) 0xC0, (byte) 0x80 },
                            new byte[] { 'c', 'l', 's', (byte) 0xED, (byte) 0xA0, (byte) 0x80 }, new byte[] { (byte) 0xE2 }));
            case 10 -> headers.add(header("ce_" + pick(r, "\u0000", "ty pe", "тип", "traceparent", "", "TYPE"),
                    nastyUnicode(r)));
            case 11 -> headers.add(header("ce_subject", r.nextBoolean() && clusterId != null ? clusterId : "cls-x"));
            case 12 -> headers.add(header("ce_data_base64",
                    Base64.getEncoder().encodeToString(bytes(data.toString()))));
            case 13 -> {
                for (int i = 0, n = r.nextInt(200); i < n; i++) {
                    headers.add(header("x-" + i, "y".repeat(r.nextInt(100))));
                }
            }
            case 14 -> headers.add(header("ce_specversion", "1.0"));
            default -> replace(headers, pick(r, "ce_id", "ce_source"), nastyUnicode(r));
        }
        return "h" + what;
    }

    /** Mutates a structured-mode event (and may add conflicting binary headers). */
    static String mutateEvent(Random r, ObjectNode event, RecordHeaders headers, ObjectNode data) {
        int what = r.nextInt(12);
        switch (what) {
            case 0 -> event.remove(pick(r, "specversion", "type", "id", "source", "data"));
            case 1 -> event.put(pick(r, "specversion", "type", "id", "source", "subject"), r.nextInt(5));
            case 2 -> event.set(pick(r, "specversion", "type", "id", "source", "subject"), randomJson(r, 2));
            case 3 -> {
                event.put("data_base64", Base64.getEncoder().encodeToString(bytes(data.toString())));
                if (r.nextBoolean()) {
                    event.remove("data");
                }
            }
            case 4 -> event.put("data", data.toString());
            case 5 -> event.set("data", NODES.arrayNode().add(data));
            case 6 -> event.put("subject", pick(r, "cls-other", "", "CLS-A", textOrNull(data, "clusterId") + " "));
            case 7 -> event.put("specversion", pick(r, "0.3", "1", "1.0.0", "", "1.0\n"));
            case 8 -> event.put("datacontenttype", pick(r, "text/xml", "application/json;x=1", "", "APPLICATION/JSON"));
            case 9 -> binaryHeaders(headers, r, textOrNull(data, "clusterId")); // binary and structured mixed
            case 10 -> event.put("type", pick(r, "ClusterAuthorizationRequested\r\n", "Other", "com.example.x"));
            default -> event.putNull(pick(r, "subject", "datacontenttype", "data"));
        }
        return "e" + what;
    }

    static RecordHeaders randomHeaders(Random r) {
        RecordHeaders h = new RecordHeaders();
        for (int i = 0, n = r.nextInt(6); i < n; i++) {
            String key = pick(r, "ce_specversion", "ce_type", "ce_id", "ce_source", "ce_subject", "content-type",
                    "ce_" + randomPrintable(r, 3), "x");
            byte[] v = new byte[r.nextInt(40)];
            r.nextBytes(v);
            h.add(key, r.nextBoolean() ? v : bytes(pick(r, "1.0", "ClusterAuthorizationRequested",
                    "application/cloudevents+json", "e-1", "/src")));
        }
        return h;
    }

    static JsonNode randomJson(Random r, int depth) {
        int kind = depth <= 0 ? r.nextInt(5) : r.nextInt(7);
        return switch (kind) {
            case 0 -> NODES.nullNode();
            case 1 -> NODES.booleanNode(r.nextBoolean());
            case 2 -> NODES.numberNode(r.nextLong());
            case 3 -> NODES.numberNode(r.nextDouble());
            case 4 -> NODES.textNode(r.nextBoolean() ? randomPrintable(r, r.nextInt(20)) : nastyUnicode(r));
            case 5 -> {
                ArrayNode a = NODES.arrayNode();
                for (int i = 0, n = r.nextInt(4); i < n; i++) {
                    a.add(randomJson(r, depth - 1));
                }
                yield a;
            }
            default -> {
                ObjectNode o = NODES.objectNode();
                for (int i = 0, n = r.nextInt(4); i < n; i++) {
                    o.set(r.nextBoolean() ? pick(r, FIELDS) : randomPrintable(r, 1 + r.nextInt(6)), randomJson(r, depth - 1));
                }
                yield o;
            }
        };
    }

    static JsonNode deep(Random r, int depth) {
        JsonNode n = NODES.textNode("cls-a");
        for (int i = 0; i < depth; i++) {
            n = r.nextBoolean() ? NODES.arrayNode().add(n) : NODES.objectNode().set("a", n);
        }
        return n;
    }

    /** Control characters, bidi overrides, zero-width and look-alike characters, lone surrogates, emoji. */
    static String nastyUnicode(Random r) {
        String[] parts = { "\u0000", "\u0007", "\u001b[31m", "\r\n", "\t", "\u007f", "\u0085", "\u2028", "\u202e",
                "\u2066", "\u200b", "\ufeff", "\ud800", "\udfff", "\ud83d\ude00", "\u0441", "ｃｌｓ", "é", "\uffff",
                "%0d%0a", "\\u0000", "'", "\"", "<script>", "${env:HOME}", "cls-a" };
        StringBuilder b = new StringBuilder();
        for (int i = 0, n = 1 + r.nextInt(6); i < n; i++) {
            b.append(parts[r.nextInt(parts.length)]);
        }
        return b.toString();
    }

    static String randomPrintable(Random r, int len) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < len; i++) {
            int kind = r.nextInt(10);
            b.appendCodePoint(kind < 6 ? 0x20 + r.nextInt(0x5f) : kind < 8 ? r.nextInt(0x20) : 0xa0 + r.nextInt(0x2000));
        }
        return b.toString();
    }

    static String randomFrom(Random r, String alphabet, int len) {
        StringBuilder b = new StringBuilder(len);
        for (int i = 0; i < len; i++) {
            b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    @SafeVarargs
    static <T> T pick(Random r, T... options) {
        return options[r.nextInt(options.length)];
    }

    static <T> T pick(Random r, List<T> options) {
        return options.get(r.nextInt(options.size()));
    }

    static int pickInt(Random r, int... options) {
        return options[r.nextInt(options.length)];
    }

    static String textOrNull(ObjectNode data, String field) {
        JsonNode v = data.get(field);
        return v != null && v.isTextual() ? v.textValue() : null;
    }

    static void replace(RecordHeaders headers, String key, String value) {
        headers.remove(key);
        headers.add(header(key, value));
    }

    static Header header(String key, String value) {
        return new RecordHeader(key, bytes(value));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] pad(byte[] json, int size) {
        byte[] out = Arrays.copyOf(json, Math.max(size, json.length));
        Arrays.fill(out, json.length, out.length, (byte) ' ');
        return out;
    }

    static byte[] insert(byte[] value, int at, byte[] what) {
        byte[] out = new byte[value.length + what.length];
        System.arraycopy(value, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(value, at, out, at + what.length, value.length - at);
        return out;
    }

    static byte[] concat(byte[] a, byte[] b) {
        return insert(a, a.length, b);
    }

    static JsonNode parseOrNull(byte[] value) {
        try {
            return value == null ? null : JSON.readTree(value);
        } catch (Exception e) {
            return null;
        }
    }

    /** The request data the input carried (for inputs built from valid data, before byte-level mutations). */
    static ObjectNode sentData(Input in) {
        JsonNode n = parseOrNull(in.value());
        if (n != null && n.has("data") && n.get("data").isObject()) {
            return (ObjectNode) n.get("data");
        }
        return (ObjectNode) n;
    }

    static String escape(String s, int max) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(max).forEach(c -> {
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                b.appendCodePoint(c);
            } else {
                b.append(c <= 0xffff ? String.format("\\u%04x", c) : String.format("\\U%08x", c));
            }
        });
        return s.codePointCount(0, s.length()) > max ? b + "…(" + s.length() + " chars)" : b.toString();
    }

    static String escape(byte[] v, int max) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(v.length, max); i++) {
            int c = v[i] & 0xff;
            b.append(c >= 0x20 && c < 0x7f && c != '\\' ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return v.length > max ? b + "…" : b.toString();
    }
}
