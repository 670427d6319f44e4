package meta

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Error is a Graph API error: the body Meta returns with a non-2xx status,
// {"error":{"message","type","code","error_subcode","fbtrace_id",
// "is_transient"}} (meta-platform.md §2.5). Message is Meta's text, safe to
// show: it has been scrubbed of the call's token and proof.
type Error struct {
	// HTTPStatus is the response status.
	HTTPStatus int
	// Code and Subcode classify the error (190 token invalid, 10/2018278
	// outside the window, 613 rate limited...). Both are 0 when the body
	// was not a Graph error.
	Code    int
	Subcode int
	// Type is Meta's error type, such as OAuthException.
	Type    string
	Message string
	// FBTraceID identifies the request at Meta, for support tickets.
	FBTraceID string
	// Transient is Meta's is_transient hint: the same call may succeed later.
	Transient bool
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	return fmt.Sprintf("graph error %d/%d (%s, http %d): %s", e.Code, e.Subcode, e.Type, e.HTTPStatus, msg)
}

// NetError is a transport failure: no HTTP response came back. Its message
// never contains the URL, the token or the proof.
type NetError struct {
	// Op names the call ("send", "accounts"...).
	Op string
	// WroteRequest reports that the whole request was written to the
	// connection before the failure: Meta may have acted on it (a message
	// may have gone out), so a retry could repeat it. False means Meta
	// cannot have seen it: retrying is safe.
	WroteRequest bool
	// Timeout reports that a time limit (the client's or the context's)
	// ended the call.
	Timeout bool
	// Err is the cause, stripped of the *url.Error that carried the URL.
	Err error
}

func (e *NetError) Error() string {
	state := "request not sent"
	if e.WroteRequest {
		state = "request sent, outcome unknown"
	}
	kind := "network error"
	if e.Timeout {
		kind = "timeout"
	}
	return fmt.Sprintf("meta: %s: %s (%s): %v", e.Op, kind, state, e.Err)
}

func (e *NetError) Unwrap() error { return e.Err }

// netError builds the NetError of a failed exchange, scrubbing secrets from
// the cause's text.
func netError(op string, err error, wrote bool, secrets []string) *NetError {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	timeout := errors.Is(err, context.DeadlineExceeded)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		timeout = true
	}
	if s := err.Error(); scrub(s, secrets) != s {
		// The cause quoted a secret: keep its words, lose its chain.
		err = errors.New(scrub(s, secrets))
	}
	return &NetError{Op: op, WroteRequest: wrote, Timeout: timeout, Err: err}
}

// scrub replaces every occurrence of the secrets in s, as they are and as
// they appear in a query string.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[redacted]")
		if q := url.QueryEscape(sec); q != sec {
			s = strings.ReplaceAll(s, q, "[redacted]")
		}
	}
	return s
}
