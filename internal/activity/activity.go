package activity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// Kinds of entries: a closed list, so the profile and segments know every
// kind they may meet. Add one here (and to kinds) to record something new.
const (
	KindNote         = "note"         // a note a person wrote; Data["text"]
	KindStage        = "stage"        // lead stage changed; Data["from"], Data["to"]
	KindPipeline     = "pipeline"     // card moved; pipeline and stage IDs and names
	KindCall         = "call"         // a synced call (P-28)
	KindImport       = "import"       // created or updated by a CSV import
	KindMerge        = "merge"        // another contact merged into this one
	KindField        = "field"        // a field value changed
	KindTag          = "tag"          // tagged or untagged
	KindConversation = "conversation" // a conversation event worth the profile
	KindBooking      = "booking"      // an appointment booked or changed
)

var kinds = map[string]bool{
	KindNote: true, KindStage: true, KindPipeline: true, KindCall: true, KindImport: true,
	KindMerge: true, KindField: true, KindTag: true, KindConversation: true, KindBooking: true,
}

// ValidKind reports whether k is one of the kinds above.
func ValidKind(k string) bool { return kinds[k] }

// Limits of an entry's details: generous for what callers record, small
// enough that a bug cannot fill a contact's log with megabytes.
const (
	maxDataKeys  = 64
	maxDataBytes = 64 << 10
)

// ErrInvalid is wrapped by every error about bad input (an unknown kind,
// a malformed actor, a note too long); validate.As finds the field-level
// message of notes.
var ErrInvalid = errors.New("activity: invalid input")

// Entry is one thing that happened to a contact.
type Entry struct {
	ID, WorkspaceID, ContactID string
	// Kind is one of the Kind constants.
	Kind string
	// Actor says who did it, as contact.By strings: "user:<id>",
	// "api_key:<id>", "flow:<id>", "ai", "system".
	Actor string
	// Data holds kind-specific details, sealed under the contact's key as a
	// whole, so it may hold personal data.
	Data map[string]string
	// At is when it happened.
	At time.Time
	// EditedAt is when a note was last edited; zero if never.
	EditedAt time.Time
}

// Store keeps contacts' activity logs.
type Store struct {
	d   *db.DB
	kr  *keyring.Keyring
	now func() time.Time
}

// NewStore returns a Store on d that seals with kr; now is the clock.
func NewStore(d *db.DB, kr *keyring.Keyring, now func() time.Time) *Store {
	return &Store{d: d, kr: kr, now: now}
}

// dataAAD binds an entry's sealed details to its workspace and row, so
// details copied to another entry or workspace do not open.
func dataAAD(workspaceID, id string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "contact_activity", Column: "data", Row: id}
}

// validActor reports whether a is an author string in contact.By's form.
func validActor(a string) bool {
	kind, id, hasID := strings.Cut(a, ":")
	switch kind {
	case "user", "api_key", "flow":
		return hasID && id != "" && !strings.ContainsAny(id, ": \t\n")
	case "ai", "system":
		return !hasID
	}
	return false
}

// check returns e's problem, wrapping ErrInvalid, or nil.
func check(e Entry) error {
	switch {
	case e.WorkspaceID == "" || e.ContactID == "":
		return fmt.Errorf("%w: workspace and contact are required", ErrInvalid)
	case !kinds[e.Kind]:
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, e.Kind)
	case !validActor(e.Actor):
		return fmt.Errorf("%w: actor %q is not valid", ErrInvalid, e.Actor)
	case len(e.Data) > maxDataKeys:
		return fmt.Errorf("%w: %d data keys, at most %d", ErrInvalid, len(e.Data), maxDataKeys)
	}
	for k := range e.Data {
		if k == "" {
			return fmt.Errorf("%w: empty data key", ErrInvalid)
		}
	}
	return nil
}

// sealData seals e.Data (an empty object for nil) for entry e.ID through idb.
func (s *Store) sealData(ctx context.Context, idb bun.IDB, e Entry) ([]byte, error) {
	data := e.Data
	if data == nil {
		data = map[string]string{}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	if len(b) > maxDataBytes {
		return nil, fmt.Errorf("%w: data of %d bytes, at most %d", ErrInvalid, len(b), maxDataBytes)
	}
	return s.kr.SealContactTx(ctx, idb, dataAAD(e.WorkspaceID, e.ID), e.ContactID, b)
}

// Record appends e to its contact's log through idb, the caller's
// transaction, so the entry exists exactly when the change it tells of
// does. ID and At are filled when empty (a UUIDv7, the clock). Bad input
// wraps ErrInvalid; a contact that is not the workspace's gets
// db.ErrNotFound, checked before anything is sealed so that no key is ever
// created for a contact that is not there.
func (s *Store) Record(ctx context.Context, idb bun.IDB, e Entry) error {
	if _, err := s.record(ctx, idb, e); err != nil {
		return fmt.Errorf("activity: record %s: %w", e.Kind, err)
	}
	return nil
}

// record is Record returning the entry as stored.
func (s *Store) record(ctx context.Context, idb bun.IDB, e Entry) (Entry, error) {
	if idb == nil {
		return Entry{}, errors.New("a transaction is required")
	}
	if err := check(e); err != nil {
		return Entry{}, err
	}
	if e.ID == "" {
		e.ID = uuid.Must(uuid.NewV7()).String()
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if err := contact.Check(ctx, idb, e.WorkspaceID, e.ContactID); err != nil {
		return Entry{}, err
	}
	sealed, err := s.sealData(ctx, idb, e)
	if err != nil {
		return Entry{}, err
	}
	if _, err := idb.NewRaw(`INSERT INTO contact_activity (id, workspace_id, contact_id, kind, actor, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.ID, e.WorkspaceID, e.ContactID, e.Kind, e.Actor, sealed, e.At).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return Entry{}, db.ErrConflict
		}
		return Entry{}, err
	}
	return e, nil
}
