package io.apigw.authorizer.request;

/** Reasons end up in headers and logs: keep them printable, short, and free of the record's raw bytes. */
final class Reasons {

    private Reasons() {
    }

    static String sanitize(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(120).forEach(c -> b.appendCodePoint(c >= 0x20 && c < 0x7f ? c : '?'));
        return b.toString();
    }

    static String describe(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return sanitize(m.lines().findFirst().orElse(m));
    }
}
