package io.apigw.authorizer.directory.tke;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.tencentcloudapi.common.Credential;

import io.apigw.authorizer.config.AuthorizerConfig;
import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;

/**
 * Short-lived credentials in each tenant's account: STS AssumeRole of the role the tenant granted to this gateway,
 * signed with the worker's own identity. Kept per role until {@code refresh-before} ahead of their expiry, so that a
 * burst of requests costs one STS call per tenant and no call is signed with keys about to die. Requests of a tenant
 * that arrive while its call runs wait for that one call (interruptibly, so each keeps its own deadline), never for a
 * queue of them: a stalled STS costs each request at most one call's bound. The SDK's
 * {@code STSCredential} is not used: it takes only permanent keys (not a CVM or OIDC role), calls STS without our
 * timeouts, and turns every STS error into a null key, which would hide "role not granted" from the console.
 * Keys and tokens are never logged; the session name (the request id) shows in the tenant's CloudAudit.
 */
final class TenantRoles {

    private static final Logger LOG = Logger.getLogger(TenantRoles.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_DURATION = Duration.ofHours(12);
    /** RoleSessionName: [\w+=,.@-], 2 to 64 characters. */
    private static final Pattern NOT_IN_SESSION_NAME = Pattern.compile("[^\\w+=,.@-]");
    private static final int MAX_SESSION_NAME = 64;

    private record Assumed(TkeAccount account, Instant expiresAt) {
    }

    /** One per role, guarded by itself; held only to read or set these, never during a call. */
    private static final class Slot {
        Assumed assumed;
        /** The AssumeRole call running now, which concurrent requests of the tenant share. */
        CompletableFuture<Assumed> running;
    }

    private final AuthorizerConfig.Directory.Tke.AssumeRole config;
    private final CloudApi sts;
    private final Clock clock;
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();

    TenantRoles(AuthorizerConfig.Directory.Tke.AssumeRole config, CloudApi sts, Clock clock) {
        if (config.duration().compareTo(MAX_DURATION) > 0 || config.refreshBefore().isNegative()
                || config.refreshBefore().compareTo(config.duration()) >= 0
                || !config.roleArnTemplate().contains("{ownerUin}")) {
            throw new IllegalArgumentException("authorizer.directory.tke.assume-role: duration must be at most 12h, "
                    + "refresh-before at least 0 and shorter than duration, role-arn-template must contain {ownerUin}");
        }
        this.config = config;
        this.sts = sts;
        this.clock = clock;
    }

    String roleArn(String ownerUin) {
        return config.roleArnTemplate().replace("{ownerUin}", ownerUin).replace("{roleName}", config.roleName());
    }

    /**
     * The tenant's role credentials, assumed now unless still fresh.
     *
     * @param worker the worker's own account, which signs the AssumeRole call
     */
    TkeAccount assume(String ownerUin, String requestId, Supplier<TkeAccount> worker) {
        String roleArn = roleArn(ownerUin);
        Slot slot = slots.computeIfAbsent(roleArn, k -> new Slot());
        Assumed kept;
        CompletableFuture<Assumed> running;
        boolean mine = false;
        synchronized (slot) {
            kept = slot.assumed;
            if (kept != null && clock.instant().isBefore(kept.expiresAt().minus(config.refreshBefore()))) {
                return kept.account();
            }
            running = slot.running;
            if (running == null) {
                running = new CompletableFuture<>();
                slot.running = running;
                mine = true;
            }
        }
        if (mine) {
            renew(slot, roleArn, ownerUin, () -> call(ownerUin, roleArn, requestId, worker.get()), running);
        }
        return awaited(running, kept, ownerUin);
    }

    /** This request assumes the role for every request waiting on the slot; {@code running} gets the outcome. */
    private void renew(Slot slot, String roleArn, String ownerUin, Supplier<Assumed> assume,
            CompletableFuture<Assumed> running) {
        Assumed fresh = null;
        RuntimeException failed = null;
        try {
            fresh = assume.get();
        } catch (RuntimeException e) {
            failed = e;
        }
        synchronized (slot) {
            if (fresh != null) {
                slot.assumed = fresh;
            }
            slot.running = null;
            if (slot.assumed == null) {
                // Nothing to keep (a role never granted, a bogus uin): no entry stays behind (issue 26, G12).
                slots.remove(roleArn, slot);
            }
        }
        if (fresh != null) {
            pruneExpired();
        }
        if (failed != null) {
            running.completeExceptionally(failed);
        } else {
            running.complete(fresh);
        }
    }

    /** The outcome of the assume this request waited on; {@code kept} still valid when STS fails for now. */
    private TkeAccount awaited(CompletableFuture<Assumed> running, Assumed kept, String ownerUin) {
        try {
            return running.get().account();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "the wait for STS AssumeRole of the role of uin " + ownerUin + " was cut short");
        } catch (ExecutionException e) {
            AuthorizationException cause = e.getCause() instanceof AuthorizationException a ? a
                    : AuthorizationException.transientFailure(FailureCode.INTERNAL, "STS AssumeRole of the role of uin "
                            + ownerUin + " failed (" + e.getCause().getClass().getSimpleName() + ")");
            if (cause.isTransient() && kept != null && clock.instant().isBefore(kept.expiresAt())) {
                // STS is throttled or down, but the keys we hold are still valid: use them while they last.
                LOG.infof("role of uin %s: renewal failed, keeping the credentials that expire at %s: %s", ownerUin,
                        kept.expiresAt(), cause.getMessage());
                return kept.account();
            }
            throw cause.code() == FailureCode.PERMISSION_DENIED ? notGranted(ownerUin, cause) : cause;
        }
    }

    /** Roles whose keys have expired and that no request is renewing are dropped: the map holds live keys only. */
    private void pruneExpired() {
        Instant now = clock.instant();
        slots.forEach((arn, slot) -> {
            synchronized (slot) {
                if (slot.running == null && (slot.assumed == null || !now.isBefore(slot.assumed.expiresAt()))) {
                    slots.remove(arn, slot);
                }
            }
        });
    }

    /** Roles whose keys are kept, or being assumed now. */
    int held() {
        return slots.size();
    }

    /** Drops the tenant's credentials after TKE refused them (the session was revoked), so the next try assumes. */
    void forget(TkeAccount account) {
        slots.values().forEach(slot -> {
            synchronized (slot) {
                if (slot.assumed != null && slot.assumed.account() == account) {
                    slot.assumed = null;
                }
            }
        });
    }

    private Assumed call(String ownerUin, String roleArn, String requestId, TkeAccount worker) {
        JsonNode answer = sts.call(worker, config.region(), "AssumeRole", JSON.createObjectNode()
                .put("RoleArn", roleArn).put("RoleSessionName", sessionName(requestId))
                .put("DurationSeconds", config.duration().toSeconds()), "role of uin " + ownerUin);
        JsonNode keys = answer.path("Credentials");
        String id = keys.path("TmpSecretId").asText("");
        String key = keys.path("TmpSecretKey").asText("");
        String token = keys.path("Token").asText("");
        long expiredTime = answer.path("ExpiredTime").asLong(0);
        if (id.isEmpty() || key.isEmpty() || token.isEmpty() || expiredTime <= 0) {
            throw AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "STS AssumeRole gave no usable credentials for the role of uin " + ownerUin);
        }
        Instant expiresAt = Instant.ofEpochSecond(expiredTime);
        LOG.debugf("role of uin %s assumed for request %s until %s", ownerUin, requestId, expiresAt);
        return new Assumed(new TkeAccount("role of uin " + ownerUin, new Credential(id, key, token)), expiresAt);
    }

    private AuthorizationException notGranted(String ownerUin, AuthorizationException e) {
        return AuthorizationException.permanent(FailureCode.PERMISSION_DENIED, "the account of uin " + ownerUin
                + " has not granted the role " + config.roleName() + " to the API gateway: grant the role, then "
                + "retry (" + e.getMessage() + ")");
    }

    static String sessionName(String requestId) {
        String name = "apigw-" + NOT_IN_SESSION_NAME.matcher(requestId).replaceAll("-");
        return name.length() <= MAX_SESSION_NAME ? name : name.substring(0, MAX_SESSION_NAME);
    }
}
