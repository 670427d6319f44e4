package metasim

import (
	"fmt"
	"net/http"
	"time"
)

// apiError is a Graph API error, rendered as Meta renders it:
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}.
type apiError struct {
	status    int
	typ       string
	code      int
	subcode   int
	message   string
	transient bool
}

// Error describes the error for logs.
func (e *apiError) Error() string {
	return fmt.Sprintf("graph error %d/%d: %s", e.code, e.subcode, e.message)
}

// statusFor is the HTTP status Graph uses for an error code: 5xx for the
// "unexpected"/"unknown" errors, 403 for permission errors (200–299),
// 400 for everything else (tokens, parameters, policy, rate limits).
func statusFor(code int) int {
	switch {
	case code == 1 || code == 2:
		return http.StatusInternalServerError
	case code >= 200 && code < 300:
		return http.StatusForbidden
	default:
		return http.StatusBadRequest
	}
}

func newErr(code, subcode int, typ, msg string) *apiError {
	return &apiError{status: statusFor(code), typ: typ, code: code, subcode: subcode, message: msg}
}

// paramErr is the Send API's "(#100) …" invalid-parameter error.
func paramErr(format string, args ...any) *apiError {
	return newErr(100, 0, "OAuthException", "(#100) "+fmt.Sprintf(format, args...))
}

func errNoToken() *apiError {
	return newErr(2500, 0, "OAuthException", "An active access token must be used to query information about the current user.")
}

func errBadToken() *apiError {
	return newErr(190, 0, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
}

func errRevoked(subcode int) *apiError {
	return newErr(190, subcode, "OAuthException",
		"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.")
}

func errExpired(at, now time.Time) *apiError {
	const layout = "Monday, 02-Jan-06 15:04:05 MST"
	return newErr(190, 463, "OAuthException", fmt.Sprintf(
		"Error validating access token: Session has expired on %s. The current time is %s.",
		at.UTC().Format(layout), now.UTC().Format(layout)))
}

func errProofMissing() *apiError {
	return newErr(100, 0, "GraphMethodException", "API calls from the server require an appsecret_proof argument")
}

func errProofInvalid() *apiError {
	return newErr(100, 0, "GraphMethodException", "Invalid appsecret_proof provided in the API argument")
}

func errPageTokenRequired() *apiError {
	return newErr(210, 0, "OAuthException", "(#210) A page access token is required to request this resource.")
}

// errUnsupported is Graph's answer for an object that does not exist or
// that the token may not see.
func errUnsupported(method, id string) *apiError {
	return newErr(100, 33, "GraphMethodException", fmt.Sprintf(
		"Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
		method, id))
}

func errUnknownPath(path string) *apiError {
	return newErr(2500, 0, "OAuthException", "Unknown path components: "+path)
}

func errNoField(name, nodeType string) *apiError {
	return paramErr("Tried accessing nonexisting field (%s) on node type (%s)", name, nodeType)
}

func errWindow() *apiError {
	return newErr(10, 2018278, "OAuthException",
		"(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview")
}

func errUnreachable() *apiError {
	return newErr(551, 1545041, "OAuthException", "(#551) This person isn't available right now.")
}

func errNoUser() *apiError {
	return newErr(100, 2018001, "OAuthException", "(#100) No matching user found")
}

func errRateLimit() *apiError {
	e := newErr(613, 0, "OAuthException", "(#613) Calls to this API have exceeded the rate limit.")
	e.transient = true
	return e
}

func errNoProfile() *apiError {
	return newErr(2018218, 0, "OAuthException", "(#2018218) No profile available for this user.")
}

// errPermission is the error for a token that lacks a permission; Meta
// uses #230 for pages_messaging and #200 for the others.
func errPermission(perm string) *apiError {
	code := 200
	if perm == "pages_messaging" {
		code = 230
	}
	return newErr(code, 0, "OAuthException", fmt.Sprintf("(#%d) Requires %s permission to manage the object", code, perm))
}

// defaultMessage is the message of an injected error that names only a
// code, taken from Meta's error tables.
func defaultMessage(code, subcode int) string {
	switch code {
	case 1:
		return "An unknown error occurred"
	case 2:
		return "An unexpected error has occurred. Please retry your request later."
	case 4:
		return "(#4) Application request limit reached"
	case 10:
		if subcode == 2018278 {
			return errWindow().message
		}
		return "(#10) Application does not have permission for this action"
	case 100:
		return "(#100) Invalid parameter"
	case 190:
		return "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."
	case 200:
		return "(#200) Permissions error"
	case 551:
		return "(#551) This person isn't available right now."
	case 613:
		return "(#613) Calls to this API have exceeded the rate limit."
	case 1200:
		return "(#1200) Temporary send message failure. Please try again later."
	}
	return fmt.Sprintf("(#%d) Simulated error", code)
}

// isTransient reports the codes Meta marks "is_transient": worth retrying.
func isTransient(code int) bool {
	switch code {
	case 1, 2, 4, 17, 341, 613, 1200:
		return true
	}
	return false
}

type errorBody struct {
	Error errorFields `json:"error"`
}

type errorFields struct {
	Message     string `json:"message"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Subcode     int    `json:"error_subcode,omitempty"`
	IsTransient bool   `json:"is_transient,omitempty"`
	FBTraceID   string `json:"fbtrace_id"`
}

func (e *apiError) body(trace string) errorBody {
	return errorBody{Error: errorFields{
		Message: e.message, Type: e.typ, Code: e.code, Subcode: e.subcode,
		IsTransient: e.transient, FBTraceID: trace,
	}}
}
