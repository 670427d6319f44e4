package timeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// Kind is what an event tells of.
type Kind string

// The kinds of events. They match the CHECK constraint of migration 00018.
const (
	KindOwner      Kind = "owner"      // the conversation's owner changed (bot, ai, human, nobody)
	KindAssignment Kind = "assignment" // assigned to a member, or unassigned
	KindTeam       Kind = "team"       // moved to a team, or out of one
	KindStatus     Kind = "status"     // resolved, reopened, pending
	KindSnooze     Kind = "snooze"     // snoozed until a time, or woken
	KindNote       Kind = "note"       // a private note (AddNote only)
	KindFlow       Kind = "flow"       // a flow started, ended or failed
	KindAI         Kind = "ai"         // the AI agent acted
	KindHandoff    Kind = "handoff"    // a flow or the AI handed over to people
	KindSeen       Kind = "seen"       // marked seen
)

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	switch k {
	case KindOwner, KindAssignment, KindTeam, KindStatus, KindSnooze, KindNote, KindFlow, KindAI, KindHandoff, KindSeen:
		return true
	}
	return false
}

// ErrInvalid reports input that was refused; a *validate.Error wrapped in
// it names the field.
var ErrInvalid = errors.New("timeline: invalid input")

// Event is one entry of a conversation's timeline.
type Event struct {
	ID             string `json:"id"`
	WorkspaceID    string `json:"workspace_id"`
	ConversationID string `json:"conversation_id"`
	ContactID      string `json:"contact_id"`
	Kind           Kind   `json:"kind"`
	// Actor is who did it: "user:<id>", "api_key:<id>", "flow:<id>", "ai",
	// "system", "page" (someone answering in the platform's own inbox) or
	// "contact".
	Actor string `json:"actor"`
	// Data is kind-specific and in clear: it must hold no personal data,
	// only IDs, states and reasons, such as {"from":"bot","to":"human",
	// "reason":"agent_reply"}. At most MaxData entries, keys of at most
	// MaxDataKey bytes and values of at most MaxDataValue.
	Data map[string]string `json:"data,omitempty"`
	At   time.Time         `json:"at"`
}

// Bounds of Event.Data: it says what changed, it is not a payload.
const (
	MaxData      = 16
	MaxDataKey   = 64
	MaxDataValue = 256
)

// checkData reports Data beyond its bounds.
func checkData(data map[string]string) error {
	if len(data) > MaxData {
		return fmt.Errorf("%w: %d data entries, at most %d", ErrInvalid, len(data), MaxData)
	}
	for k, v := range data {
		if k == "" || len(k) > MaxDataKey || len(v) > MaxDataValue {
			return fmt.Errorf("%w: data entry %.64q too long or unnamed", ErrInvalid, k)
		}
	}
	return nil
}

// Store keeps timelines; private notes are sealed with kr.
type Store struct {
	d   *db.DB
	kr  *keyring.Keyring
	now func() time.Time
	st  *db.Statements // Record's, prepared
}

// NewStore returns a Store on d that seals notes with kr; now is the clock.
func NewStore(d *db.DB, kr *keyring.Keyring, now func() time.Time) *Store {
	return &Store{d: d, kr: kr, now: now, st: db.NewStatements(d, "timeline")}
}

// Record's statements: it runs inside the transactions of inbox changes,
// so they are prepared once (Prepare) rather than parsed per event.
const (
	sqlConversationContact = `SELECT contact_id FROM conversations WHERE workspace_id = ? AND id = ?`
	sqlInsertEvent         = `INSERT INTO conversation_events (id, workspace_id, conversation_id, contact_id, kind, actor, data, note, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// Prepare has the engine parse Record's statements once; call it at start,
// outside any transaction. Without it Record works the same, only slower.
func (s *Store) Prepare(ctx context.Context) error {
	if err := s.st.Prepare(ctx, []string{sqlConversationContact, sqlInsertEvent}, nil); err != nil {
		return fmt.Errorf("timeline: prepare: %w", err)
	}
	return nil
}

// validActor reports whether a is one of the actor forms Event.Actor lists.
func validActor(a string) bool {
	switch a {
	case "ai", "system", "page", "contact":
		return true
	}
	for _, p := range []string{"user:", "api_key:", "flow:"} {
		if len(a) > len(p) && a[:len(p)] == p {
			return true
		}
	}
	return false
}

// conversationContact returns the contact of the workspace's conversation,
// or db.ErrNotFound when the workspace has no such conversation. It reads
// package inbox's table (read only, see doc.go).
func (s *Store) conversationContact(ctx context.Context, idb bun.IDB, workspaceID, conversationID string) (string, error) {
	var contactID string
	if err := s.st.Row(ctx, idb, []any{&contactID}, sqlConversationContact, workspaceID, conversationID); err != nil {
		return "", db.NoRows(err)
	}
	return contactID, nil
}

// Record appends e inside the caller's transaction idb (ID and At filled
// when empty, ContactID read from the conversation when empty). The
// conversation must be e.WorkspaceID's: otherwise db.ErrNotFound, and a
// ContactID that is not the conversation's is refused with ErrInvalid.
// Notes are not recorded here (their text is sealed): use AddNote.
func (s *Store) Record(ctx context.Context, idb bun.IDB, e Event) error {
	if err := s.record(ctx, idb, &e, nil); err != nil {
		return fmt.Errorf("timeline: record %s: %w", e.Kind, err)
	}
	return nil
}

// record checks and inserts e, filling its ID, At and ContactID. seal,
// set for KindNote only, returns the sealed note text of e once those are
// filled (the seal is bound to the event ID, under the contact's key).
func (s *Store) record(ctx context.Context, idb bun.IDB, e *Event, seal func(e *Event) ([]byte, error)) error {
	if !e.Kind.Valid() || (e.Kind == KindNote) != (seal != nil) {
		return fmt.Errorf("%w: kind %q", ErrInvalid, e.Kind)
	}
	if !validActor(e.Actor) {
		return fmt.Errorf("%w: actor %q", ErrInvalid, e.Actor)
	}
	if err := checkData(e.Data); err != nil {
		return err
	}
	if e.WorkspaceID == "" || e.ConversationID == "" {
		return db.ErrNotFound
	}
	contactID, err := s.conversationContact(ctx, idb, e.WorkspaceID, e.ConversationID)
	if err != nil {
		return err
	}
	if e.ContactID != "" && e.ContactID != contactID {
		return fmt.Errorf("%w: contact is not the conversation's", ErrInvalid)
	}
	e.ContactID = contactID
	if e.ID == "" {
		e.ID = uuid.Must(uuid.NewV7()).String()
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	data := []byte("{}")
	if len(e.Data) > 0 {
		if data, err = json.Marshal(e.Data); err != nil {
			return err
		}
	}
	var note []byte
	if seal != nil {
		if note, err = seal(e); err != nil {
			return err
		}
	}
	_, err = s.st.Exec(ctx, idb, sqlInsertEvent,
		e.ID, e.WorkspaceID, e.ConversationID, e.ContactID, string(e.Kind), e.Actor, string(data), note, e.At)
	if db.IsUniqueViolation(err) {
		return db.ErrConflict
	}
	return err
}
