package channel

import (
	"context"
	"fmt"
	"time"
)

// Outbound is one message ready for a platform: content already adapted to
// the platform's limits and a policy decision already taken.
type Outbound struct {
	// To is the person's platform-scoped ID.
	To      string
	Content Content
	// MessagingType and Tag come from the policy Decision.
	MessagingType string
	Tag           string
	// Metadata travels with the message and comes back in its echo: Parley
	// puts its message ID there to match the echo to the message.
	Metadata string
	// ReplyTo quotes a message by platform ID.
	ReplyTo string
}

// SendResult is what the platform answered to a successful send.
type SendResult struct {
	// MID is the platform message ID.
	MID string
}

// Sender actions (typing indicators and read marks).
const (
	ActionTypingOn  = "typing_on"
	ActionTypingOff = "typing_off"
	ActionMarkSeen  = "mark_seen"
)

// Sender delivers messages through a platform's own send API (promise
// P-16). Every error it returns is a *SendError.
type Sender interface {
	Send(ctx context.Context, ch Channel, token string, m Outbound) (SendResult, error)
	SenderAction(ctx context.Context, ch Channel, token, to, action string) error
}

// Profile is a person's public profile as the platform's profile API gives
// it, and nothing more (promise P-14).
type Profile struct {
	FirstName  string
	LastName   string
	Locale     string
	PictureURL string
}

// ProfileFetcher reads a person's profile from the platform. It returns
// (Profile{}, nil) when the platform answers but shares nothing, and a
// *SendError otherwise.
type ProfileFetcher interface {
	Profile(ctx context.Context, ch Channel, token, userID string) (Profile, error)
}

// ErrorKind classifies a platform failure by what Parley must do about it.
type ErrorKind string

// Error kinds.
const (
	// ErrTokenInvalid: the token is dead (190, 102, 200 on a token). Mark
	// the channel NeedsReconnect; never retry with the same token.
	ErrTokenInvalid ErrorKind = "token_invalid"
	// ErrWindowClosed: outside the messaging window (10/2018278). Never
	// retry automatically.
	ErrWindowClosed ErrorKind = "window_closed"
	// ErrUnreachable: the person cannot be reached (551, 1545041); never
	// retry.
	ErrUnreachable ErrorKind = "unreachable"
	// ErrRateLimited: 4, 613, 80001...: retry after RetryAfter.
	ErrRateLimited ErrorKind = "rate_limited"
	// ErrTransient: 5xx, 1, 2, 1200, or the connection failed before the
	// request was sent: retry with backoff.
	ErrTransient ErrorKind = "transient"
	// ErrUncertain: the request may have reached the platform but no answer
	// came (timeout after writing). Retrying could send twice.
	ErrUncertain ErrorKind = "uncertain"
	// ErrPermission: the app or Page lacks a permission or feature (10, 200,
	// 230...): tell the workspace; never retry.
	ErrPermission ErrorKind = "permission"
	// ErrInvalid: the request was refused as malformed (100 and others):
	// never retry.
	ErrInvalid ErrorKind = "invalid"
)

// SendError is a platform failure, classified. Message is the platform's
// message, safe to show (it never contains the token).
type SendError struct {
	Kind       ErrorKind
	Code       int
	Subcode    int
	Message    string
	RetryAfter time.Duration
}

func (e *SendError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("%s: %s", e.Kind, e.Message)
	}
	return fmt.Sprintf("%s: %s (code %d/%d)", e.Kind, e.Message, e.Code, e.Subcode)
}

// Retryable reports whether sending again may succeed without anyone
// changing anything.
func (e *SendError) Retryable() bool {
	return e.Kind == ErrRateLimited || e.Kind == ErrTransient
}
