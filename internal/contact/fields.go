package contact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// FieldType is the type of a custom field: it decides how a value is
// checked and normalized before it is stored (see Field.Parse).
type FieldType string

// Field types (column contact_fields.type).
const (
	FieldText    FieldType = "text"
	FieldNumber  FieldType = "number"
	FieldDate    FieldType = "date"
	FieldBoolean FieldType = "boolean"
	FieldEmail   FieldType = "email"
	FieldPhone   FieldType = "phone"
	FieldChoice  FieldType = "choice"
)

// Valid reports whether t is one of the field types.
func (t FieldType) Valid() bool {
	switch t {
	case FieldText, FieldNumber, FieldDate, FieldBoolean, FieldEmail, FieldPhone, FieldChoice:
		return true
	}
	return false
}

// Limits of field definitions.
const (
	MaxFieldLabel = 100 // characters
	MaxChoices    = 100
	MaxChoice     = 100 // characters per choice
)

// Audit actions of field definitions (target type "contact_field").
// Setting a contact's value is not audited: it is the contact's data, and
// flows set thousands of them.
const (
	ActionFieldDefine  = "contact_field.define"
	ActionFieldUpdate  = "contact_field.update"
	ActionFieldArchive = "contact_field.archive"
	ActionFieldRestore = "contact_field.restore"
	targetField        = "contact_field"
)

// Errors of field definitions and values, besides *validate.Error for bad
// input and db.ErrNotFound (wrapped) for a contact not in the workspace.
var (
	// ErrFieldExists: the workspace already has a field with that key
	// (archived ones included: keys are never reused). Wraps db.ErrConflict.
	ErrFieldExists = fmt.Errorf("a field with this key already exists: %w", db.ErrConflict)
	// ErrFieldInUse: the type of a field that holds values cannot change,
	// since the stored values were checked against the old type. Wraps
	// db.ErrConflict.
	ErrFieldInUse = fmt.Errorf("the field holds values, so its type cannot change: %w", db.ErrConflict)
	// ErrNoSuchField: the workspace has no field with that key. Wraps
	// db.ErrNotFound.
	ErrNoSuchField = fmt.Errorf("no such field: %w", db.ErrNotFound)
	// ErrFieldArchived: the field is archived, so values cannot be set
	// (they can still be read back by restoring it, and cleared).
	ErrFieldArchived = errors.New("the field is archived")
)

// Field is the definition of a custom field in a workspace.
type Field struct {
	ID          string
	WorkspaceID string
	// Key is the stable name flows, templates and the API use; it never
	// changes once defined.
	Key   string
	Label string
	Type  FieldType
	// Choices are the allowed values of a choice field, in display order.
	Choices   []string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ArchivedAt is zero while the field is in use.
	ArchivedAt time.Time
}

// Archived reports whether the field is archived.
func (f Field) Archived() bool { return !f.ArchivedAt.IsZero() }

// FieldSpec is what a person chooses about a field: everything but its key.
type FieldSpec struct {
	Label   string
	Type    FieldType
	Choices []string
}

// keyPattern is the shape of a field key: a slug that can appear in a
// template ({{contact.field.city}}) and a JSON document unescaped.
var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// reservedKeys are the contact's own attributes: a custom field with one of
// these keys would make a template or a condition ambiguous.
var reservedKeys = map[string]bool{
	"id": true, "workspace_id": true, "channel_id": true, "channel": true, "external_id": true,
	"first_name": true, "last_name": true, "name": true, "full_name": true, "display_name": true,
	"locale": true, "language": true, "picture": true, "picture_url": true, "profile_pic": true,
	"created_at": true, "updated_at": true, "tags": true, "fields": true,
}

// checkKey validates a field key.
func checkKey(key string) error {
	switch {
	case !keyPattern.MatchString(key):
		return validate.Field("key", "Use 1 to 40 lower-case letters, digits or _, starting with a letter.")
	case reservedKeys[key]:
		return validate.Field("key", "This key is taken by a built-in contact attribute; choose another.")
	}
	return nil
}

// check validates and normalizes the spec: the returned spec is what is
// stored.
func (sp FieldSpec) check() (FieldSpec, error) {
	label, ok := cleanText(sp.Label, false)
	if !ok {
		return FieldSpec{}, validate.Field("label", "The label is not valid text.")
	}
	label, err := validate.Name("label", label, MaxFieldLabel, false)
	if err != nil {
		return FieldSpec{}, err
	}
	if !sp.Type.Valid() {
		return FieldSpec{}, validate.Field("type", "Choose one of text, number, date, boolean, email, phone or choice.")
	}
	out := FieldSpec{Label: label, Type: sp.Type, Choices: []string{}}
	if sp.Type != FieldChoice {
		if len(sp.Choices) > 0 {
			return FieldSpec{}, validate.Field("choices", "Only a choice field has choices.")
		}
		return out, nil
	}
	if len(sp.Choices) == 0 || len(sp.Choices) > MaxChoices {
		return FieldSpec{}, validate.Field("choices", fmt.Sprintf("Give between 1 and %d choices.", MaxChoices))
	}
	seen := make(map[string]bool, len(sp.Choices))
	for _, c := range sp.Choices {
		c, ok := cleanText(c, false)
		switch {
		case !ok || c == "":
			return FieldSpec{}, validate.Field("choices", "Every choice must be non-empty text on one line.")
		case utf8.RuneCountInString(c) > MaxChoice:
			return FieldSpec{}, validate.Field("choices", fmt.Sprintf("Use at most %d characters per choice.", MaxChoice))
		case seen[db.FoldKey(c)]:
			return FieldSpec{}, validate.Field("choices", fmt.Sprintf("%q is listed twice.", c))
		}
		seen[db.FoldKey(c)] = true
		out.Choices = append(out.Choices, c)
	}
	return out, nil
}

const fieldCols = `id, workspace_id, key, label, type, choices, created_at, updated_at, archived_at`

// fieldRow is a contact_fields row as stored.
type fieldRow struct {
	ID          string     `bun:"id"`
	WorkspaceID string     `bun:"workspace_id"`
	Key         string     `bun:"key"`
	Label       string     `bun:"label"`
	Type        string     `bun:"type"`
	Choices     string     `bun:"choices"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	ArchivedAt  *time.Time `bun:"archived_at"`
}

func (r *fieldRow) field() (Field, error) {
	f := Field{
		ID: r.ID, WorkspaceID: r.WorkspaceID, Key: r.Key, Label: r.Label, Type: FieldType(r.Type),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.Choices), &f.Choices); err != nil {
		return Field{}, fmt.Errorf("field %s: choices: %w", r.ID, err)
	}
	if r.ArchivedAt != nil {
		f.ArchivedAt = r.ArchivedAt.UTC()
	}
	return f, nil
}

// fieldByKey reads one field of the workspace through idb. With share set,
// on PostgreSQL the row is locked against concurrent definition changes
// until idb's transaction ends, so a value is never checked against a type
// that is changing under it (SQLite's single writer gives that already).
func (s *Store) fieldByKey(ctx context.Context, idb bun.IDB, workspaceID, key string, share bool) (Field, error) {
	q := `SELECT ` + fieldCols + ` FROM contact_fields WHERE workspace_id = ? AND key = ?`
	if share && s.d.Dialect == db.Postgres {
		q += ` FOR SHARE`
	}
	var r fieldRow
	if err := idb.NewRaw(q, workspaceID, key).Scan(ctx, &r); err != nil {
		if errors.Is(db.NoRows(err), db.ErrNotFound) {
			return Field{}, ErrNoSuchField
		}
		return Field{}, err
	}
	return r.field()
}

// DefineField adds a field to the workspace and records
// contact_field.define. Bad input gets a *validate.Error; a key already
// used in the workspace gets ErrFieldExists.
func (s *Store) DefineField(ctx context.Context, a audit.Actor, workspaceID, key string, spec FieldSpec) (Field, error) {
	if err := checkKey(key); err != nil {
		return Field{}, fmt.Errorf("contact: define field: %w", err)
	}
	spec, err := spec.check()
	if err != nil {
		return Field{}, fmt.Errorf("contact: define field: %w", err)
	}
	choices, err := json.Marshal(spec.Choices)
	if err != nil {
		return Field{}, fmt.Errorf("contact: define field: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	f := Field{
		ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, Key: key, Label: spec.Label, Type: spec.Type,
		Choices: spec.Choices, CreatedAt: now, UpdatedAt: now,
	}
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// DO NOTHING, not a failing insert: a unique violation would abort a
		// PostgreSQL transaction before the audit record.
		res, err := tx.NewRaw(`INSERT INTO contact_fields (id, workspace_id, key, label, type, choices, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, key) DO NOTHING`,
			f.ID, workspaceID, key, f.Label, string(f.Type), string(choices), now, now).Exec(ctx)
		if err := db.OneRow(res, err); errors.Is(err, db.ErrNotFound) {
			return ErrFieldExists
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionFieldDefine, targetField, f.ID,
			map[string]string{"key": key, "type": string(f.Type)})
	})
	if err != nil {
		return Field{}, fmt.Errorf("contact: define field: %w", err)
	}
	return f, nil
}

// UpdateField replaces the label, type and choices of the workspace's field
// key and records contact_field.update. The type may change only while no
// contact has a value (ErrFieldInUse otherwise). Choices may change freely:
// a value holding a choice that was removed stays as it was answered, and
// a new value must be one of the new choices.
func (s *Store) UpdateField(ctx context.Context, a audit.Actor, workspaceID, key string, spec FieldSpec) (Field, error) {
	spec, err := spec.check()
	if err != nil {
		return Field{}, fmt.Errorf("contact: update field: %w", err)
	}
	choices, err := json.Marshal(spec.Choices)
	if err != nil {
		return Field{}, fmt.Errorf("contact: update field: %w", err)
	}
	var out Field
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		// Lock the row first (PostgreSQL: SetField reads it FOR SHARE), then
		// look for values: a value set concurrently is either committed
		// before this check sees it, or waits and is checked against the
		// new definition.
		if err := db.OneRow(tx.NewRaw(`UPDATE contact_fields SET updated_at = ? WHERE workspace_id = ? AND key = ?`,
			now, workspaceID, key).Exec(ctx)); err != nil {
			if errors.Is(err, db.ErrNotFound) {
				return ErrNoSuchField
			}
			return err
		}
		f, err := s.fieldByKey(ctx, tx, workspaceID, key, false)
		if err != nil {
			return err
		}
		if f.Type != spec.Type {
			var inUse bool
			if err := tx.NewRaw(`SELECT EXISTS (SELECT 1 FROM contact_field_values WHERE field_id = ?)`, f.ID).Scan(ctx, &inUse); err != nil {
				return err
			}
			if inUse {
				return ErrFieldInUse
			}
		}
		if _, err := tx.NewRaw(`UPDATE contact_fields SET label = ?, type = ?, choices = ? WHERE id = ?`,
			spec.Label, string(spec.Type), string(choices), f.ID).Exec(ctx); err != nil {
			return err
		}
		f.Label, f.Type, f.Choices, f.UpdatedAt = spec.Label, spec.Type, spec.Choices, now
		out = f
		return audit.Record(ctx, tx, now, workspaceID, a, ActionFieldUpdate, targetField, f.ID,
			map[string]string{"key": key, "type": string(f.Type)})
	})
	if err != nil {
		return Field{}, fmt.Errorf("contact: update field: %w", err)
	}
	return out, nil
}

// ArchiveField archives the workspace's field key and records
// contact_field.archive: it is hidden, cannot be set, and its values are
// kept (hidden too) until the field is restored or the contacts deleted.
// Archiving an archived field changes nothing.
func (s *Store) ArchiveField(ctx context.Context, a audit.Actor, workspaceID, key string) error {
	return s.setArchived(ctx, a, workspaceID, key, true)
}

// RestoreField brings back an archived field with its values and records
// contact_field.restore.
func (s *Store) RestoreField(ctx context.Context, a audit.Actor, workspaceID, key string) error {
	return s.setArchived(ctx, a, workspaceID, key, false)
}

func (s *Store) setArchived(ctx context.Context, a audit.Actor, workspaceID, key string, archive bool) error {
	op, action := "restore", ActionFieldRestore
	if archive {
		op, action = "archive", ActionFieldArchive
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		f, err := s.fieldByKey(ctx, tx, workspaceID, key, false)
		if err != nil {
			return err
		}
		if f.Archived() == archive {
			return nil
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		var at *time.Time
		if archive {
			at = &now
		}
		if _, err := tx.NewRaw(`UPDATE contact_fields SET archived_at = ?, updated_at = ? WHERE id = ?`, at, now, f.ID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, action, targetField, f.ID, map[string]string{"key": key})
	})
	if err != nil {
		return fmt.Errorf("contact: %s field: %w", op, err)
	}
	return nil
}

// Fields returns the workspace's fields in the order they were defined;
// archived ones only when withArchived is set.
func (s *Store) Fields(ctx context.Context, workspaceID string, withArchived bool) ([]Field, error) {
	out, err := s.fields(ctx, s.d.R, workspaceID, withArchived)
	if err != nil {
		return nil, fmt.Errorf("contact: fields: %w", err)
	}
	return out, nil
}

func (s *Store) fields(ctx context.Context, idb bun.IDB, workspaceID string, withArchived bool) ([]Field, error) {
	q := `SELECT ` + fieldCols + ` FROM contact_fields WHERE workspace_id = ?`
	if !withArchived {
		q += ` AND archived_at IS NULL`
	}
	var rows []fieldRow
	if err := idb.NewRaw(q+` ORDER BY created_at, id`, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]Field, 0, len(rows))
	for i := range rows {
		f, err := rows[i].field()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// FieldByKey returns the workspace's field key, archived or not
// (ErrNoSuchField, which wraps db.ErrNotFound, if there is none).
func (s *Store) FieldByKey(ctx context.Context, workspaceID, key string) (Field, error) {
	f, err := s.fieldByKey(ctx, s.d.R, workspaceID, key, false)
	if err != nil {
		return Field{}, fmt.Errorf("contact: field %q: %w", key, err)
	}
	return f, nil
}
