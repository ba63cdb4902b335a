package io.apigw.authorizer.request;

import static io.apigw.authorizer.request.Reasons.sanitize;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/** The ce_* attributes and the content type from the headers, and the first ce_ header spelled otherwise. */
record Envelope(Map<String, String> ce, String contentType, String miscased) {

    static final int MAX_HEADER_BYTES = 1024;
    private static final String CE_PREFIX = "ce_";
    private static final String STRUCTURED = "application/cloudevents+json";

    /** @throws Invalid for a ce_* or content-type header without a bounded UTF-8 value, or a ce_* header repeated */
    static Envelope of(Headers headers) {
        Map<String, String> ce = new TreeMap<>();
        String contentType = null;
        String miscased = null;
        for (Header h : headers) {
            String key = h.key();
            if (miscased == null && !key.startsWith(CE_PREFIX) && key.regionMatches(true, 0, CE_PREFIX, 0, 3)) {
                miscased = key;
            }
            if (key.startsWith(CE_PREFIX) || key.equals("content-type")) {
                byte[] raw = h.value();
                if (raw == null || raw.length > MAX_HEADER_BYTES) {
                    throw new Invalid("header " + sanitize(key) + " is missing a value or too long");
                }
                String v = decodeStrict(raw);
                if (v == null) {
                    throw new Invalid("header " + sanitize(key) + " is not valid UTF-8");
                }
                if (key.equals("content-type")) {
                    contentType = v;
                } else if (ce.put(key.substring(CE_PREFIX.length()), v) != null) {
                    throw new Invalid("header " + sanitize(key) + " appears more than once");
                }
            }
        }
        return new Envelope(ce, contentType, miscased);
    }

    /** Whether the value is a structured-mode event ({@code application/cloudevents+json}). */
    boolean structured() {
        return contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith(STRUCTURED);
    }

    private static String decodeStrict(byte[] raw) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
