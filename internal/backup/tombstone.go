package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Tombstone is one entry of the erasure log as it travels between systems:
// the same fields and JSON as erasure.Tombstone. It holds no content, only
// a pseudonymous subject (an HMAC of the erased contact's or workspace's
// ID under a key derived from the master key).
type Tombstone struct {
	// Kind is "contact", "conversation" or "workspace".
	Kind string `json:"kind"`
	// WorkspaceID is the erased contact's workspace ("" for a workspace).
	WorkspaceID string `json:"workspace_id,omitempty"`
	// Subject is the hex HMAC of the erased ID.
	Subject string `json:"subject"`
	// At is when the erasure happened.
	At time.Time `json:"at"`
}

// Replayer erases again, in a restored database, everything the tombstones
// name (erasure.Service.Replay behind an adapter). It must be idempotent
// and return how many subjects it erased.
type Replayer interface {
	Replay(ctx context.Context, ts []Tombstone) (int, error)
}

// TombstoneFormat names the tombstone file format, so a file of another
// kind is refused instead of replaying nothing.
const TombstoneFormat = "parley-tombstones/1"

// tombstoneFile is the JSON document `parley tombstones export` writes.
type tombstoneFile struct {
	Format     string      `json:"format"`
	ExportedAt time.Time   `json:"exported_at"`
	Tombstones []Tombstone `json:"tombstones"`
}

// maxTombstoneFile bounds what ReadTombstones reads (about a million
// tombstones).
const maxTombstoneFile = 256 << 20

// WriteTombstones writes ts as a tombstone file.
func WriteTombstones(w io.Writer, ts []Tombstone, now time.Time) error {
	if ts == nil {
		ts = []Tombstone{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(tombstoneFile{Format: TombstoneFormat, ExportedAt: now.UTC(), Tombstones: ts}); err != nil {
		return fmt.Errorf("backup: write tombstones: %w", err)
	}
	return nil
}

// ReadTombstones reads a tombstone file written by WriteTombstones. A file
// of another format, or with an entry that is not a well-formed tombstone,
// is an error: replaying half a log silently would defeat its purpose.
func ReadTombstones(r io.Reader) ([]Tombstone, error) {
	var f tombstoneFile
	dec := json.NewDecoder(io.LimitReader(r, maxTombstoneFile))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("backup: read tombstones: %w", err)
	}
	if f.Format != TombstoneFormat {
		return nil, fmt.Errorf("backup: read tombstones: format %q, want %q", f.Format, TombstoneFormat)
	}
	for i, t := range f.Tombstones {
		if err := checkTombstone(t); err != nil {
			return nil, fmt.Errorf("backup: read tombstones: entry %d: %w", i, err)
		}
	}
	return f.Tombstones, nil
}

func checkTombstone(t Tombstone) error {
	switch t.Kind {
	case "contact", "conversation":
		if t.WorkspaceID == "" {
			return fmt.Errorf("a %s tombstone without a workspace", t.Kind)
		}
	case "workspace":
	default:
		return fmt.Errorf("unknown kind %q", t.Kind)
	}
	if len(t.Subject) != 64 {
		return errors.New("the subject is not a hex HMAC-SHA256")
	}
	for _, c := range t.Subject {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return errors.New("the subject is not a hex HMAC-SHA256")
		}
	}
	return nil
}
