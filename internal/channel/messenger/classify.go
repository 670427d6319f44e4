package messenger

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/meta"
)

// How long to wait after a rate-limit error before trying again. Graph
// gives no Retry-After; app-level limits (code 4) reset over minutes,
// Page-level ones sooner.
const (
	RetryAfterRateLimit    = 30 * time.Second
	RetryAfterAppRateLimit = 60 * time.Second
)

// Graph error codes and subcodes (meta-platform.md §2.5).
const (
	subcodeOutsideWindow = 2018278
	subcodeUnavailable   = 1545041
	subcodeNoProfile     = 2018218
)

// Classify maps an error of the Graph client to what Parley must do about
// it (meta-platform.md §2.5). It returns nil for nil and passes a
// *channel.SendError through. Graph errors are classified by code first,
// then subcode:
//
//   - 190, 102, 463, 460: token_invalid (reconnect the Page);
//   - 10 with subcode 2018278 or 1545041: window_closed;
//   - 551 (whatever the subcode): unreachable;
//   - 4, 17, 32, 613, 80001, 80006: rate_limited, with RetryAfter;
//   - 1, 2, 1200, HTTP 5xx or is_transient: transient;
//   - 10 otherwise, 200–299: permission;
//   - anything else (100 among them): invalid.
//
// Transport failures before the request was written are transient; after
// it (a timeout or reset while waiting for the answer) uncertain, because
// the message may have gone out. Any other error may also have happened
// after sending (an unreadable answer) and is uncertain, which is never
// retried automatically.
func Classify(err error) *channel.SendError {
	if err == nil {
		return nil
	}
	var se *channel.SendError
	if errors.As(err, &se) {
		return se
	}
	var ge *meta.Error
	if errors.As(err, &ge) {
		return classifyGraph(ge)
	}
	var ne *meta.NetError
	if errors.As(err, &ne) {
		if ne.WroteRequest {
			return &channel.SendError{Kind: channel.ErrUncertain, Message: ne.Error()}
		}
		return &channel.SendError{Kind: channel.ErrTransient, Message: ne.Error()}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// Cancelled before the client got to the network (it reports a
		// NetError once it has).
		return &channel.SendError{Kind: channel.ErrTransient, Message: err.Error()}
	}
	return &channel.SendError{Kind: channel.ErrUncertain, Message: err.Error()}
}

func classifyGraph(e *meta.Error) *channel.SendError {
	out := &channel.SendError{Code: e.Code, Subcode: e.Subcode, Message: e.Message}
	if out.Message == "" {
		out.Message = http.StatusText(e.HTTPStatus)
	}
	switch {
	case e.Code == 190 || e.Code == 102 || e.Code == 463 || e.Code == 460 || e.Subcode == 463 || e.Subcode == 460:
		out.Kind = channel.ErrTokenInvalid
	case e.Code == 10 && (e.Subcode == subcodeOutsideWindow || e.Subcode == subcodeUnavailable):
		// The 2026 docs list 1545041 as "window closed" (meta-platform.md
		// §9); under code 10 that is what it means.
		out.Kind = channel.ErrWindowClosed
	case e.Code == 551:
		out.Kind = channel.ErrUnreachable
	case e.Code == 4:
		out.Kind, out.RetryAfter = channel.ErrRateLimited, RetryAfterAppRateLimit
	case e.Code == 17 || e.Code == 32 || e.Code == 613 || e.Code == 80001 || e.Code == 80006:
		out.Kind, out.RetryAfter = channel.ErrRateLimited, RetryAfterRateLimit
	case e.Code == 1 || e.Code == 2 || e.Code == 1200 || e.HTTPStatus >= 500 || e.Transient:
		out.Kind = channel.ErrTransient
	case e.Code == 10 || (e.Code >= 200 && e.Code <= 299):
		out.Kind = channel.ErrPermission
	default:
		out.Kind = channel.ErrInvalid
	}
	return out
}
