package io.apigw.authorizer.grant;

import io.apigw.authorizer.result.CredentialProblem;

/**
 * What trying a token as the gateway found: usable ({@code problem == null}), or why not, with a line for the console
 * that never quotes the token.
 */
public record TokenVerdict(CredentialProblem problem, String detail) {

    static final TokenVerdict USABLE = new TokenVerdict(null, "the token authenticates as " + ReservedResources.NAMESPACE
            + "/" + ReservedResources.SERVICE_ACCOUNT + " and holds its policy's rights");

    /**
     * The legacy token cleaner (1.29+) has labelled the token Secret: its token is rejected from then on. Judged
     * without a call, by the reconcile (before a token is stored) and by the stored credential's checks alike.
     */
    public static TokenVerdict invalidated(String tokenSecret) {
        return new TokenVerdict(CredentialProblem.invalidated, "token Secret " + tokenSecret + " is labelled "
                + ReservedResources.LEGACY_TOKEN_INVALID_SINCE);
    }

    /** The same verdict, with what the console's user can do about it. */
    public TokenVerdict advising(String advice) {
        return new TokenVerdict(problem, detail + "; " + advice);
    }

    public boolean usable() {
        return problem == null;
    }

    /** A problem that another look a moment later may not see: caches of a just-changed token or binding. */
    boolean mayBeSettling() {
        return problem == CredentialProblem.rejected || problem == CredentialProblem.lacks_rights;
    }
}
