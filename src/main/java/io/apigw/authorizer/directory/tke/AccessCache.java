package io.apigw.authorizer.directory.tke;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps resolved private endpoints for a short while, so that bursts of requests for one cluster do not repeat three
 * API calls each. Only successes are stored: a cluster whose private access was off works on the first retry after
 * it is enabled.
 */
final class AccessCache {

    record Key(String appId, String ownerUin, String region, String clusterId) {
    }

    private record Entry(PrivateEndpoint endpoint, long expiresAt) {
        boolean expired(long now) {
            return now - expiresAt >= 0;
        }
    }

    private final long ttlNanos;
    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();

    AccessCache(Duration ttl) {
        this.ttlNanos = ttl.toNanos();
    }

    PrivateEndpoint get(Key key) {
        Entry entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (entry.expired(System.nanoTime())) {
            entries.remove(key, entry);
            return null;
        }
        return entry.endpoint();
    }

    void put(Key key, PrivateEndpoint endpoint) {
        if (ttlNanos <= 0) {
            return;
        }
        long now = System.nanoTime();
        // Drop what has expired, so the map holds only the clusters of the last TTL.
        entries.values().removeIf(e -> e.expired(now));
        entries.put(key, new Entry(endpoint, now + ttlNanos));
    }
}
