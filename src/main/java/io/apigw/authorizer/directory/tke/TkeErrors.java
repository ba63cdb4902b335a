package io.apigw.authorizer.directory.tke;

import com.tencentcloudapi.common.exception.TencentCloudSDKException;

import io.apigw.authorizer.result.AuthorizationException;
import io.apigw.authorizer.result.FailureCode;

/**
 * Sorts TKE API errors into contract codes. The request is always well-formed by the time it gets here (cluster id
 * and region passed the contract's checks), so TKE's {@code InvalidParameter*} means "no such cluster here", not a
 * bad request. Every message names the action, the cloud's code and its RequestId for support cases.
 */
final class TkeErrors {

    /** The SDK's code for a non-200 HTTP answer. */
    private static final String HTTP_ERROR = "ServerSideError";
    private static final int MAX_CLOUD_MESSAGE = 200;

    private TkeErrors() {
    }

    static AuthorizationException classify(String action, TencentCloudSDKException e) {
        String code = e.getErrorCode() == null ? "" : e.getErrorCode();
        if (code.isEmpty()) {
            // No API answer at all: connect/read timeout, I/O error, or a body that is no API 3.0 envelope.
            String cause = e.getCause() == null ? "no answer" : e.getCause().getClass().getSimpleName();
            return AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "TKE " + action + " gave no usable answer (" + cause + ")");
        }
        if (code.equals(HTTP_ERROR)) {
            return AuthorizationException.transientFailure(FailureCode.INTERNAL,
                    "TKE " + action + " failed: " + clean(e.getMessage()));
        }
        String requestId = e.getRequestId() == null || e.getRequestId().isBlank() ? ""
                : " (RequestId " + e.getRequestId() + ")";
        String message = "TKE " + action + " failed: " + code + ": " + clean(e.getMessage()) + requestId;
        if (code.startsWith("ResourceNotFound") || code.endsWith(".ClusterNotFound")
                || code.startsWith("InvalidParameter")) {
            return AuthorizationException.permanent(FailureCode.CLUSTER_NOT_FOUND, message);
        }
        if (code.equals("AuthFailure.SignatureExpire")) {
            // The signature aged in transit or the clock jumped: a freshly signed call may pass.
            return AuthorizationException.transientFailure(FailureCode.INTERNAL, message);
        }
        if (code.startsWith("AuthFailure") || code.startsWith("UnauthorizedOperation")
                || code.endsWith(".CamNoAuth")) {
            return AuthorizationException.permanent(FailureCode.PERMISSION_DENIED, message);
        }
        if (code.equals("FailedOperation.KubeClientConnection")) {
            return AuthorizationException.transientFailure(FailureCode.API_SERVER_UNREACHABLE, message);
        }
        if (code.startsWith("InternalError") || code.startsWith("RequestLimitExceeded")
                || code.startsWith("ResourceUnavailable")) {
            return AuthorizationException.transientFailure(FailureCode.INTERNAL, message);
        }
        // MissingParameter, UnsupportedOperation* and unknown codes: repeating the same call will not help.
        return AuthorizationException.permanent(FailureCode.INTERNAL, message);
    }

    /**
     * STS AssumeRole errors. A missing role, or one whose trust policy does not name this gateway's account, is the
     * tenant's to fix (permanent PERMISSION_DENIED); the worker's own identity refused, or a bad role ARN, is the
     * operator's (permanent INTERNAL); throttling and STS trouble pass (transient).
     */
    static AuthorizationException classifyAssumeRole(String action, TencentCloudSDKException e) {
        String code = e.getErrorCode() == null ? "" : e.getErrorCode();
        if (code.isEmpty() || code.equals(HTTP_ERROR)) {
            return classify(action, e);
        }
        String requestId = e.getRequestId() == null || e.getRequestId().isBlank() ? ""
                : " (RequestId " + e.getRequestId() + ")";
        String message = "STS " + action + " failed: " + code + ": " + clean(e.getMessage()) + requestId;
        if (code.startsWith("ResourceNotFound.Role") || code.startsWith("UnauthorizedOperation")
                || code.equals("InternalError.IllegalRole") || code.equals("InvalidParameter.AccountNotAvaliable")) {
            return AuthorizationException.permanent(FailureCode.PERMISSION_DENIED, message);
        }
        if (code.equals("AuthFailure.SignatureExpire") || code.startsWith("InternalError")
                || code.startsWith("RequestLimitExceeded") || code.startsWith("LimitExceeded")
                || code.startsWith("ResourceUnavailable")) {
            return AuthorizationException.transientFailure(FailureCode.INTERNAL, message);
        }
        // AuthFailure.* (the worker's own keys), InvalidParameter.* (the role ARN template) and unknown codes.
        return AuthorizationException.permanent(FailureCode.INTERNAL, message);
    }

    /** Cloud messages are published as they are: one line, bounded. */
    static String clean(String text) {
        if (text == null) {
            return "";
        }
        String line = text.replaceAll("[\\s\\p{Cntrl}]+", " ").trim();
        return line.length() <= MAX_CLOUD_MESSAGE ? line : line.substring(0, MAX_CLOUD_MESSAGE) + "…";
    }
}
