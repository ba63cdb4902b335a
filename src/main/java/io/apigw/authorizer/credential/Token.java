package io.apigw.authorizer.credential;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.security.MessageDigest;

/** A bearer token. Its {@code toString} never prints it, so it cannot slip into a log line or a message. */
public final class Token {

    private final byte[] value;

    private Token(byte[] value) {
        this.value = value;
    }

    public static Token of(byte[] value) {
        return new Token(value.clone());
    }

    public byte[] bytes() {
        return value.clone();
    }

    public String reveal() {
        return new String(value, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Token t && MessageDigest.isEqual(value, t.value);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Token[redacted]";
    }
}
