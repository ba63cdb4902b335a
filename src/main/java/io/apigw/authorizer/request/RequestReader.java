package io.apigw.authorizer.request;

import static io.apigw.authorizer.request.Reasons.describe;
import static io.apigw.authorizer.request.Reasons.sanitize;
import static io.apigw.authorizer.request.RequestFields.fieldProblem;
import static io.apigw.authorizer.request.RequestFields.grace;
import static io.apigw.authorizer.request.RequestFields.ifCredentialVersion;
import static io.apigw.authorizer.request.RequestFields.policyVersion;
import static io.apigw.authorizer.request.RequestFields.scalar;
import static io.apigw.authorizer.request.RequestFields.text;
import static io.apigw.authorizer.request.RequestFields.trigger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.config.AuthorizerConfig.DirectoryType;

/**
 * Turns a Kafka record into a validated request: CloudEvents binary mode ({@code ce_*} headers), structured mode
 * ({@code application/cloudevents+json}), or a plain request object. Never throws.
 */
@ApplicationScoped
public class RequestReader {

    static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    static final Pattern CLUSTER_ID = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    static final Pattern REGION = Pattern.compile("[a-z]+(-[a-z0-9]+)+");
    static final Pattern APP_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    static final Pattern OWNER_UIN = Pattern.compile("[0-9]{1,20}");
    static final int MAX_REQUESTED_BY = 256;
    static final int MAX_ECHOED_ID_BYTES = 1024;
    /** The context attributes of CloudEvents 1.0 that are strings (String, URI-reference, URI or Timestamp). */
    private static final Set<String> CORE_ATTRIBUTES = Set.of("specversion", "id", "source", "type",
            "datacontenttype", "dataschema", "subject", "time");

    /** Deep nesting and huge numbers are refused by the parser itself, before any tree is built. */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).maxNumberLength(64).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final int maxBytes;
    private final boolean regionRequired;

    @Inject
    public RequestReader(AuthorizerConfig config) {
        this(config.request().maxBytes(), config.directory().type());
    }

    RequestReader(int maxBytes, DirectoryType directory) {
        this.maxBytes = maxBytes;
        this.regionRequired = directory == DirectoryType.tke;
    }

    public ReadResult read(Headers headers, byte[] value) {
        if (value == null || value.length == 0) {
            return unreadable("empty record value");
        }
        if (value.length > maxBytes) {
            return oversize("record of " + value.length + " bytes exceeds the limit of " + maxBytes);
        }
        long headerBytes = headerBytes(headers);
        if (headerBytes > maxBytes) {
            // The reader uses only ce_* and content-type, but every header is held while the record waits.
            return oversize("headers of " + headerBytes + " bytes exceed the limit of " + maxBytes);
        }
        Envelope envelope;
        try {
            envelope = Envelope.of(headers);
        } catch (Invalid e) {
            return unreadable(e.getMessage());
        }
        JsonNode body;
        try {
            body = JSON.readTree(value);
        } catch (IOException | RuntimeException e) {
            return unreadable("value is not a JSON document (" + describe(e) + ")");
        }
        if (body == null || !body.isObject()) {
            return unreadable("value is not a JSON object");
        }
        return readBody(envelope, body);
    }

    /** A JSON object read as its headers say: a structured event, a binary-mode event's data, or a plain request. */
    private ReadResult readBody(Envelope envelope, JsonNode body) {
        Map<String, String> ce = envelope.ce();
        String miscased = envelope.miscased();
        boolean structured = envelope.structured();
        if (miscased != null) {
            // Kafka header names are case-sensitive and the CloudEvents Kafka binding spells them ce_*, so CE_TYPE is
            // no attribute: SDK-based consumers of the same topic would not see an event. Yet its sender meant one, and
            // reading the record as a plain request would run a deauthorize as an authorize. Refusing it (rather than
            // guessing) acts on nothing the rest of the topic's readers see differently and tells the sender what to fix.
            return rejectWithIds("header " + sanitize(miscased) + " is not a CloudEvents header: the Kafka binding names "
                    + "them in lower case (" + sanitize(miscased.toLowerCase(Locale.ROOT)) + ")",
                    structured && body.path("data").isObject() ? body.get("data") : body, true);
        }
        if (structured && !ce.isEmpty()) {
            return unreadable("record mixes structured mode with ce_ headers");
        }
        if (structured) {
            return readStructured((ObjectNode) body);
        }
        if (!ce.isEmpty()) {
            return readEnvelope(ce, body);
        }
        return readData(body, RequestType.AUTHORIZE, null);
    }

    private ReadResult readStructured(ObjectNode event) {
        JsonNode data = event.get("data");
        Map<String, String> attributes = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = event.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals("data")) {
                continue;
            }
            if (field.getKey().equals("data_base64")) {
                return rejectWithIds("structured event carries data_base64; JSON data is required", data, true);
            }
            JsonNode value = field.getValue();
            if (value.isTextual()) {
                attributes.put(field.getKey(), value.textValue());
            } else if (CORE_ATTRIBUTES.contains(field.getKey())) {
                return rejectWithIds("CloudEvents attribute " + sanitize(field.getKey()) + " must be a string", data, true);
            } else if (!value.isBoolean() && !(value.isIntegralNumber() && value.canConvertToInt())) {
                // Extensions may be any CloudEvents type; in JSON only Integer (32-bit) and Boolean are not strings.
                return rejectWithIds("CloudEvents attribute " + sanitize(field.getKey())
                        + " must be a string, an integer or a boolean", data, true);
            }
        }
        if (data == null || !data.isObject()) {
            return unreadable("structured event has no JSON object in data");
        }
        return readEnvelope(attributes, data);
    }

    private ReadResult readEnvelope(Map<String, String> ce, JsonNode data) {
        String missing = firstMissing(ce, "specversion", "type", "id", "source");
        if (missing != null) {
            return rejectWithIds("CloudEvents attribute " + missing + " is missing", data, true);
        }
        if (!"1.0".equals(ce.get("specversion"))) {
            return rejectWithIds("unsupported CloudEvents specversion " + sanitize(ce.get("specversion")), data, true);
        }
        Optional<RequestType> type = RequestType.of(ce.get("type"));
        if (type.isEmpty()) {
            return rejectWithIds("unknown event type " + sanitize(ce.get("type")), data, true);
        }
        String contentType = ce.get("datacontenttype");
        if (contentType != null && !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return rejectWithIds("unsupported datacontenttype " + sanitize(contentType), data, true);
        }
        return readData(data, type.get(), ce.get("subject"));
    }

    private ReadResult readData(JsonNode data, RequestType type, String subject) {
        if (!data.isObject()) {
            return unreadable("event data is not a JSON object");
        }
        Optional<String> requestId = text(data, "requestId").filter(REQUEST_ID.asMatchPredicate());
        Optional<String> clusterId = text(data, "clusterId").filter(CLUSTER_ID.asMatchPredicate());
        Optional<String> region = text(data, "region").filter(REGION.asMatchPredicate());
        if (requestId.isEmpty() || clusterId.isEmpty()) {
            String why = requestId.isEmpty() ? fieldProblem(data, "requestId", "1-128 characters of [A-Za-z0-9._:-]")
                    : fieldProblem(data, "clusterId", "a DNS label: 1-63 characters of [a-z0-9-], no leading or trailing '-'");
            return new ReadResult.Rejected(why, true, echoed(data, "requestId"), echoed(data, "clusterId"), region,
                    false);
        }
        try {
            if (subject != null && !subject.equals(clusterId.get())) {
                throw new Invalid("CloudEvents subject does not match clusterId");
            }
            if ((data.hasNonNull("region") || regionRequired) && region.isEmpty()) {
                throw new Invalid(fieldProblem(data, "region", "a region such as ap-guangzhou"));
            }
            // requestedBy's problem is named before the tenant's, as it always was.
            Optional<String> requestedBy = scalar(data, "requestedBy", s -> s.length() <= MAX_REQUESTED_BY,
                    "requestedBy must be a string of at most " + MAX_REQUESTED_BY + " characters");
            Optional<String> appId = scalar(data, "appId", APP_ID.asMatchPredicate(),
                    "appId must be 1-64 characters of [A-Za-z0-9_-]");
            Optional<String> ownerUin = scalar(data, "ownerUin", OWNER_UIN.asMatchPredicate(),
                    "ownerUin must be the account's uin: 1-20 digits");
            Optional<Duration> grace = grace(data, type);
            Trigger trigger = trigger(data);
            Optional<String> ifVersion = ifCredentialVersion(data, type);
            return new ReadResult.Accepted(new AuthorizationRequest(type, requestId.get(), clusterId.get(), region,
                    appId, requestedBy, grace, trigger, ifVersion, policyVersion(data, ifVersion), ownerUin));
        } catch (Invalid e) {
            return new ReadResult.Rejected(e.getMessage(), false, requestId, clusterId, region, false);
        }
    }

    private ReadResult rejectWithIds(String reason, JsonNode data, boolean unreadable) {
        if (data == null || !data.isObject()) {
            return unreadable(reason);
        }
        return new ReadResult.Rejected(reason, unreadable, echoed(data, "requestId"), echoed(data, "clusterId"),
                text(data, "region").filter(REGION.asMatchPredicate()), false);
    }

    /**
     * An id as sent, even one that breaks its pattern, so that the sender can correlate the Failed/INVALID_REQUEST
     * answer (contract section 4: every readable request gets a result). Only a bounded one: 1 to 1 KiB of UTF-8 and
     * nothing invisible (control, format, surrogate, unassigned, private-use or line-breaking characters), since it
     * becomes the result's key, ce_subject and a log field. Without both, the dead letter is the only trace left.
     */
    private static Optional<String> echoed(JsonNode data, String field) {
        return text(data, field).filter(s -> !s.isEmpty() && s.length() <= MAX_ECHOED_ID_BYTES
                && s.getBytes(StandardCharsets.UTF_8).length <= MAX_ECHOED_ID_BYTES
                && s.codePoints().allMatch(RequestReader::visible));
    }

    private static boolean visible(int c) {
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.UNASSIGNED, Character.PRIVATE_USE,
                    Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }

    private static ReadResult unreadable(String reason) {
        return new ReadResult.Rejected(reason, true, Optional.empty(), Optional.empty(), Optional.empty(), false);
    }

    /** The headers' bytes as the record holds them: names in UTF-8 and values. */
    public static long headerBytes(Headers headers) {
        long bytes = 0;
        for (Header h : headers) {
            bytes += h.key().getBytes(StandardCharsets.UTF_8).length
                    + (h.value() == null ? 0 : h.value().length);
        }
        return bytes;
    }

    private static ReadResult oversize(String reason) {
        return new ReadResult.Rejected(reason, true, Optional.empty(), Optional.empty(), Optional.empty(), true);
    }

    private static String firstMissing(Map<String, String> ce, String... names) {
        for (String n : names) {
            if (ce.get(n) == null || ce.get(n).isEmpty()) {
                return n;
            }
        }
        return null;
    }
}
