package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/validate"
)

// DefaultScopes returns the Facebook Login permissions asked for when
// Options gives none: list the Pages, subscribe them, message through them.
func DefaultScopes() []string {
	return []string{"pages_show_list", "pages_manage_metadata", "pages_messaging"}
}

// DefaultSubscribedFields returns the Page webhook fields Parley subscribes
// to when Options gives none (meta-platform.md §2.1).
func DefaultSubscribedFields() []string {
	return []string{
		"messages", "messaging_postbacks", "messaging_optins", "message_deliveries", "message_reads",
		"message_echoes", "messaging_referrals", "messaging_handovers", "standby", "message_reactions",
	}
}

// Options configure a Service.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// StateKey signs the Facebook Login state; the app passes
	// master.Derive("channel-login-state"). Without it, Login is disabled.
	StateKey []byte
	// RedirectURL is where Facebook sends the browser back:
	// BaseURL + "/channels/messenger/callback". Without it, Login is
	// disabled.
	RedirectURL string
	// Scopes are the Login permissions (default DefaultScopes()).
	Scopes []string
	// SubscribedFields are the webhook fields each Page is subscribed to
	// (default DefaultSubscribedFields()).
	SubscribedFields []string
	// Log records tolerated failures, such as an unsubscribe Meta refused
	// (default: discarded).
	Log *slog.Logger
	// Identities, when set, records which Facebook user each channel's
	// token came from (identity.go); nil records nothing.
	Identities Identities
}

// Service connects, configures and disconnects Messenger Pages.
type Service struct {
	d        *db.DB
	kr       *keyring.Keyring
	graph    *meta.Client
	channels *channel.Store
	opt      Options
}

// New returns a Service.
func New(d *db.DB, kr *keyring.Keyring, graph *meta.Client, channels *channel.Store, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if len(opt.Scopes) == 0 {
		opt.Scopes = DefaultScopes()
	}
	if len(opt.SubscribedFields) == 0 {
		opt.SubscribedFields = DefaultSubscribedFields()
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, kr: kr, graph: graph, channels: channels, opt: opt}
}

// Codes of ConnectError.
const (
	CodeTokenInvalid     = "token_invalid"     // Meta rejects the token
	CodeTokenMismatch    = "token_mismatch"    // the token is not this Page's
	CodeSubscribeFailed  = "subscribe_failed"  // Meta refused to subscribe the app to the Page
	CodeGraphUnavailable = "graph_unavailable" // Meta could not be reached; try again
	CodeLoginDisabled    = "login_disabled"    // no state key or redirect URL configured
	CodeLoginInvalid     = "login_invalid"     // the login state is forged, garbled or used
	CodeLoginExpired     = "login_expired"     // the login took longer than 15 minutes
	CodeLoginFailed      = "login_failed"      // Meta refused the code exchange
	CodePageUnavailable  = "page_unavailable"  // the login's user no longer manages the Page
	CodeNeedsReconnect   = "needs_reconnect"   // the channel has no usable token
	CodeSettingsRejected = "settings_rejected" // Meta refused the Page settings
)

// ConnectError is a refusal the person connecting can act on. Message is
// safe to show: it never contains a token.
type ConnectError struct {
	Code    string
	Message string
	// Err is the underlying cause (often a *meta.Error), for logs.
	Err error
}

func (e *ConnectError) Error() string { return "connect: " + e.Code + ": " + e.Message }

func (e *ConnectError) Unwrap() error { return e.Err }

// graphFailure turns a Graph failure of an operation into a ConnectError:
// a rejected token, Meta's refusal (code) or Meta out of reach. Anything
// else is returned wrapped as is.
func graphFailure(op, code, refused string, err error) error {
	var ge *meta.Error
	var ne *meta.NetError
	switch {
	case errors.As(err, &ge) && ge.Code == 190:
		return &ConnectError{Code: CodeTokenInvalid, Message: "Facebook no longer accepts this token: " + ge.Message, Err: err}
	case errors.As(err, &ge):
		return &ConnectError{Code: code, Message: refused + ": " + ge.Message, Err: err}
	case errors.As(err, &ne):
		return &ConnectError{Code: CodeGraphUnavailable, Message: "Facebook could not be reached. Try again in a moment.", Err: err}
	}
	return fmt.Errorf("connect: %s: %w", op, err)
}

// ConnectToken connects the Page pageID to the workspace with a Page access
// token: Graph must say the token is that Page's (GET /me), the app is
// subscribed to the Page's webhooks, then the channel is stored with the
// token sealed. Connecting a Page the workspace already has replaces its
// token and clears NeedsReconnect. Errors: *validate.Error for malformed
// input; channel.ErrTakenElsewhere for a Page active in another workspace;
// *ConnectError for Meta's refusals (token_invalid, token_mismatch,
// subscribe_failed, graph_unavailable). Nothing is stored on any error.
func (s *Service) ConnectToken(ctx context.Context, a audit.Actor, ws, pageID, token string) (channel.Channel, error) {
	if err := checkPageID("page_id", pageID); err != nil {
		return channel.Channel{}, err
	}
	if err := checkToken(token); err != nil {
		return channel.Channel{}, err
	}
	if err := s.notElsewhere(ctx, ws, pageID); err != nil {
		return channel.Channel{}, err
	}
	me, err := s.graph.Me(ctx, token)
	if err != nil {
		var ge *meta.Error
		if errors.As(err, &ge) {
			return channel.Channel{}, &ConnectError{Code: CodeTokenInvalid, Message: "Facebook does not accept this token: " + ge.Message, Err: err}
		}
		return channel.Channel{}, graphFailure("connect token", CodeTokenInvalid, "", err)
	}
	if me.ID != pageID {
		return channel.Channel{}, &ConnectError{Code: CodeTokenMismatch,
			Message: "This token is not a Page access token for Page " + pageID + ". Copy the token of that Page."}
	}
	ch, err := s.connectPage(ctx, a, ws, pageID, me.Name, token)
	if err == nil {
		// A pasted token's person is unknown: forget any earlier origin.
		s.recordOrigin(ctx, ws, a.UserID, "", []channel.Channel{ch})
	}
	return ch, err
}

// connectPage subscribes the app to the Page and stores the channel.
func (s *Service) connectPage(ctx context.Context, a audit.Actor, ws, pageID, name, token string) (channel.Channel, error) {
	if err := s.graph.SubscribeApp(ctx, token, pageID, s.opt.SubscribedFields); err != nil {
		return channel.Channel{}, graphFailure("subscribe", CodeSubscribeFailed, "Facebook refused to connect Parley to the Page", err)
	}
	if name == "" {
		name = "Page " + pageID
	}
	ch, err := s.channels.Connect(ctx, a, channel.Connection{WorkspaceID: ws, Type: channel.Messenger, ExternalID: pageID, Name: name, Token: token})
	if errors.Is(err, channel.ErrTakenElsewhere) {
		// Connected elsewhere meanwhile. The subscription stays: the other
		// workspace relies on it.
		return channel.Channel{}, takenElsewhere(pageID)
	}
	if err != nil {
		return channel.Channel{}, fmt.Errorf("connect: %w", err)
	}
	return ch, nil
}

// notElsewhere refuses a Page active in another workspace before any Graph
// call is made for it.
func (s *Service) notElsewhere(ctx context.Context, ws, pageID string) error {
	ch, err := s.channels.ByAccount(ctx, s.d.R, channel.Messenger, pageID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("connect: %w", err)
	case ch.WorkspaceID != ws:
		return takenElsewhere(pageID)
	}
	return nil
}

// takenElsewhere is channel.ErrTakenElsewhere, which the HTTP layers
// already answer with 409.
func takenElsewhere(pageID string) error {
	return fmt.Errorf("connect: page %s: %w", pageID, channel.ErrTakenElsewhere)
}

// Disconnect unsubscribes the app from the Page and disconnects the
// channel, destroying its token. The unsubscribe is best effort: the token
// may already be dead (the reason many people disconnect), and a Page left
// subscribed only sends events that no workspace routes; failures are
// logged. A channel of another workspace, or already disconnected, is
// db.ErrNotFound.
func (s *Service) Disconnect(ctx context.Context, a audit.Actor, ws, id string) (channel.Channel, error) {
	ch, err := s.channels.Get(ctx, ws, id)
	if err != nil {
		return channel.Channel{}, fmt.Errorf("connect: disconnect: %w", err)
	}
	if ch.Status != channel.Active {
		return channel.Channel{}, fmt.Errorf("connect: disconnect: %w", db.ErrNotFound)
	}
	token, err := s.channels.Token(ctx, ch)
	switch {
	case errors.Is(err, channel.ErrNoToken):
		// Needs reconnecting: there is no token to unsubscribe with.
	case err != nil:
		s.opt.Log.Warn("connect: open token to unsubscribe", "channel", ch.ID, "err", err)
	default:
		if err := s.graph.UnsubscribeApp(ctx, token, ch.ExternalID); err != nil {
			s.opt.Log.Warn("connect: unsubscribe failed; disconnecting anyway", "channel", ch.ID, "err", err)
		}
	}
	out, err := s.channels.Disconnect(ctx, a, ws, id)
	if err != nil {
		return channel.Channel{}, fmt.Errorf("connect: disconnect: %w", err)
	}
	return out, nil
}

// checkPageID accepts a Page ID: 1 to 32 digits.
func checkPageID(field, id string) error {
	if id == "" || len(id) > 32 {
		return validate.Field(field, "Enter the Page ID: its digits, as shown in the Page's About section.")
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return validate.Field(field, "A Page ID has only digits.")
		}
	}
	return nil
}

// checkToken accepts a pasted access token: 1 to 1024 printable ASCII
// characters, no spaces.
func checkToken(token string) error {
	const field = "token"
	if token == "" {
		return validate.Field(field, "Paste the Page access token.")
	}
	if len(token) > 1024 {
		return validate.Field(field, "That is too long for an access token.")
	}
	for i := 0; i < len(token); i++ {
		if token[i] <= ' ' || token[i] > '~' {
			return validate.Field(field, "An access token has only letters, digits and punctuation, no spaces.")
		}
	}
	return nil
}

// checkText checks a free text field: valid UTF-8, at most max characters,
// no control characters but newlines and tabs when multiline.
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return validate.Field(field, "This is not valid text.")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return validate.Field(field, fmt.Sprintf("Use at most %d characters (this has %d).", max, n))
	}
	bad := strings.IndexFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\t' || r == '\r') {
			return false
		}
		return r < ' ' || r == 0x7f
	})
	if bad >= 0 {
		return validate.Field(field, "This contains control characters.")
	}
	return nil
}
