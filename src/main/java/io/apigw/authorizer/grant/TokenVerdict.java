package io.apigw.authorizer.grant;

import io.apigw.authorizer.result.CredentialProblem;

/**
 * What trying a token as the gateway found: usable ({@code problem == null}), or why not, with a line for the console
 * that never quotes the token.
 */
public record TokenVerdict(CredentialProblem problem, String detail) {

    static final TokenVerdict USABLE = new TokenVerdict(null, "the token authenticates as " + ReservedResources.NAMESPACE
            + "/" + ReservedResources.SERVICE_ACCOUNT + " and holds its policy's rights");

    public boolean usable() {
        return problem == null;
    }

    /** A problem that another look a moment later may not see: caches of a just-changed token or binding. */
    boolean mayBeSettling() {
        return problem == CredentialProblem.rejected || problem == CredentialProblem.lacks_rights;
    }
}
