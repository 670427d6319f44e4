package httpx

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error with an HTTP status, a stable machine-readable code and a
// message that is safe to show to the caller. Err, the internal cause, is
// logged once and never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	// Field names the request field at fault, when there is one.
	Field string
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted public message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors. Handlers may return these directly or build their own.
func BadRequest(code, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: msg}
}

// Invalid reports a request field that failed validation (422).
func Invalid(field, msg string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + field, Field: field, Message: msg}
}

// NotFound is the answer for anything the caller may not see, including
// another workspace's objects: no existence oracle.
func NotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

// Forbidden is for a caller who may see the thing but not do this to it.
func Forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: msg}
}

// Unauthorized asks the caller to sign in.
func Unauthorized(code, msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: code, Message: msg}
}

// Conflict reports a clash with existing state.
func Conflict(code, msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: msg}
}

// TooManyRequests tells the caller to wait retryAfter seconds.
func TooManyRequests(retryAfter int) *Error {
	if retryAfter < 1 {
		retryAfter = 1
	}
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: retryAfter,
		Message: fmt.Sprintf("Too many attempts. Try again in %d seconds.", retryAfter)}
}

// Internal wraps an unexpected failure; the caller sees only a generic
// message and the request ID.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "Something went wrong on our side. It has been logged.", Err: err}
}

// AsError turns any error into an *Error: an *Error anywhere in the chain
// wins; anything else is internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
