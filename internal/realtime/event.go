package realtime

import (
	"errors"
	"fmt"
)

// Kind names what changed. It doubles as the SSE event name, so it is limited
// to lower-case letters, digits, '.', '_' and '-'.
type Kind string

// The kinds publishers use. Kinds are an open set (any valid name works);
// these are the ones the dashboard listens for.
const (
	// KindConversation: a conversation was created or its state changed
	// (status, owner, assignment, team, tags, unread count).
	KindConversation Kind = "conversation"
	// KindMessage: an entry was added to or updated on a conversation's
	// timeline (message either way, delivery or read state, note).
	KindMessage Kind = "message"
	// KindContact: a contact's profile, fields, tags or stage changed.
	KindContact Kind = "contact"
	// KindResync tells a subscriber that it may have missed events and should
	// reload everything it shows. The Hub sends it; publishers need not.
	KindResync Kind = "resync"
)

// maxIDLen bounds every ID field, which keeps a NOTIFY payload far below
// PostgreSQL's 8000-byte limit and stops a caller from smuggling content
// into an ID.
const maxIDLen = 100

// Event is one invalidation hint. It holds IDs only: never message text,
// names, phone numbers or other personal data (see the package comment).
type Event struct {
	// WorkspaceID selects the topic; required.
	WorkspaceID string `json:"workspace_id"`
	// Kind says what changed; required.
	Kind Kind `json:"kind"`
	// ConversationID, ContactID: what changed, when it applies.
	ConversationID string `json:"conversation_id,omitempty"`
	ContactID      string `json:"contact_id,omitempty"`
	// AssigneeID and TeamID are the conversation's assignee (a user ID) and
	// team after the change, so a subscriber's filter can decide visibility
	// ("mine", "my team") without a database round trip.
	AssigneeID string `json:"assignee_id,omitempty"`
	TeamID     string `json:"team_id,omitempty"`
}

// Errors returned by the Hub and reported by Subscription.Err.
var (
	// ErrLagging: the subscriber did not keep up and was dropped; it should
	// reload and subscribe again.
	ErrLagging = errors.New("realtime: subscriber lagging")
	// ErrUnsubscribed: the subscription was closed or its context ended.
	ErrUnsubscribed = errors.New("realtime: unsubscribed")
	// ErrHubClosed: the Hub was closed (server shutdown).
	ErrHubClosed = errors.New("realtime: hub closed")
)

// validate checks that ev is publishable.
func (ev Event) validate() error {
	if ev.WorkspaceID == "" {
		return errors.New("realtime: event without workspace")
	}
	if !validKind(ev.Kind) {
		return fmt.Errorf("realtime: invalid event kind %q", ev.Kind)
	}
	for _, id := range []string{ev.WorkspaceID, ev.ConversationID, ev.ContactID, ev.AssigneeID, ev.TeamID} {
		if len(id) > maxIDLen {
			return fmt.Errorf("realtime: event ID longer than %d bytes", maxIDLen)
		}
		for i := 0; i < len(id); i++ {
			if id[i] < 0x21 || id[i] > 0x7e {
				return errors.New("realtime: event ID with a non-printable or non-ASCII byte")
			}
		}
	}
	return nil
}

// validKind reports whether k is safe as an SSE event name.
func validKind(k Kind) bool {
	if len(k) == 0 || len(k) > 40 {
		return false
	}
	for _, c := range []byte(k) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
