package contact

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/keyring"
)

// SetOptions say who sets a value, and how to read phone numbers.
type SetOptions struct {
	// By is the author, kept with the value. Required.
	By By
	// Region is the ISO 3166-1 alpha-2 code (such as "KH") that phone
	// numbers without a country code are read in: the workspace's or the
	// channel's country. "" accepts only international numbers.
	Region string
}

// valueAAD binds a sealed value to its workspace, contact and field, so a
// value copied to another contact or another field does not open.
func valueAAD(workspaceID, contactID, fieldID string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "contact_field_values", Column: "value", Row: contactID + "/" + fieldID}
}

// inTx runs fn through idb, or in a transaction of its own when idb is nil.
func (s *Store) inTx(ctx context.Context, idb bun.IDB, fn func(ctx context.Context, idb bun.IDB) error) error {
	if idb != nil {
		return fn(ctx, idb)
	}
	return s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) })
}

// SetField sets the contact's value of the workspace's field key to raw,
// checked and normalized by Field.Parse, sealed under the contact's key,
// through idb (a flow passes its transaction; nil runs in a transaction of
// its own). It returns the value as stored.
//
// Bad input changes nothing and gets a *validate.Error naming the field
// (validate.As finds it); an unknown key gets ErrNoSuchField, an archived
// field ErrFieldArchived, a contact that is not the workspace's
// db.ErrNotFound.
func (s *Store) SetField(ctx context.Context, idb bun.IDB, workspaceID, contactID, key, raw string, o SetOptions) (Value, error) {
	if !o.By.valid() {
		return Value{}, fmt.Errorf("contact: set field %q: author %q is not valid", key, o.By)
	}
	var v Value
	err := s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		f, err := s.fieldByKey(ctx, idb, workspaceID, key, true)
		if err != nil {
			return err
		}
		if f.Archived() {
			return ErrFieldArchived
		}
		text, err := f.Parse(raw, o.Region)
		if err != nil {
			return err
		}
		if err := Check(ctx, idb, workspaceID, contactID); err != nil {
			return err
		}
		sealed, err := s.kr.SealContactTx(ctx, idb, valueAAD(workspaceID, contactID, f.ID), contactID, []byte(text))
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		// Should the contact be erased between the check and here, the
		// foreign key fails the insert and the caller's transaction, key
		// included, rolls back: nothing survives the erasure.
		if _, err := idb.NewRaw(`INSERT INTO contact_field_values (contact_id, field_id, workspace_id, value, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (contact_id, field_id) DO UPDATE
			SET value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			contactID, f.ID, workspaceID, sealed, o.By.String(), now).Exec(ctx); err != nil {
			return err
		}
		if f.Type == FieldPhone { // the blind index moves with the value (phones.go)
			if err := s.indexPhone(ctx, idb, workspaceID, contactID, f.ID, text); err != nil {
				return err
			}
		}
		if err := s.searchableChanged(ctx, idb, f.Type, workspaceID, contactID); err != nil {
			return err
		}
		v = Value{Key: f.Key, Type: f.Type, Text: text, UpdatedBy: o.By, UpdatedAt: now}
		return nil
	})
	if err != nil {
		return Value{}, fmt.Errorf("contact: set field %q: %w", key, err)
	}
	return v, nil
}

// FieldChange is one edit of a contact's values: set the field Key to
// Raw, or, with Clear, remove its value.
type FieldChange struct {
	Key   string
	Raw   string
	Clear bool
}

// ApplyFields makes the changes to the workspace's contact in one
// transaction: all of them, or none when one is refused (with the error
// SetField or ClearField gives). A form editing several values at once
// uses it, so a person never sees half their edit saved.
func (s *Store) ApplyFields(ctx context.Context, workspaceID, contactID string, changes []FieldChange, o SetOptions) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, c := range changes {
			var err error
			if c.Clear {
				_, err = s.ClearField(ctx, tx, workspaceID, contactID, c.Key)
			} else {
				_, err = s.SetField(ctx, tx, workspaceID, contactID, c.Key, c.Raw, o)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("contact: apply fields: %w", err)
	}
	return nil
}

// ClearField removes the contact's value of the workspace's field key
// through idb (nil: a transaction of its own) and reports whether there
// was one. Archived fields can be cleared too: removing personal data is
// always allowed.
func (s *Store) ClearField(ctx context.Context, idb bun.IDB, workspaceID, contactID, key string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		f, err := s.fieldByKey(ctx, idb, workspaceID, key, false)
		if err != nil {
			return err
		}
		if err := Check(ctx, idb, workspaceID, contactID); err != nil {
			return err
		}
		removed, err = touched(idb.NewRaw(`DELETE FROM contact_field_values WHERE workspace_id = ? AND contact_id = ? AND field_id = ?`,
			workspaceID, contactID, f.ID).Exec(ctx))
		if err == nil && f.Type == FieldPhone { // the blind index goes with the value (phones.go)
			err = s.unindexPhone(ctx, idb, workspaceID, contactID, f.ID)
		}
		if err == nil && removed {
			err = s.searchableChanged(ctx, idb, f.Type, workspaceID, contactID)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("contact: clear field %q: %w", key, err)
	}
	return removed, nil
}

// FieldValues returns the contact's values of the workspace's fields that
// are not archived, by key, opened. A contact of another workspace, an
// unknown one, or one whose key was destroyed (erased a moment ago) has
// none.
func (s *Store) FieldValues(ctx context.Context, workspaceID, contactID string) (map[string]Value, error) {
	return s.fieldValues(ctx, nil, workspaceID, contactID)
}

// FieldValuesTx is FieldValues reading through idb, so that a flow sees
// the values it set earlier in its transaction.
func (s *Store) FieldValuesTx(ctx context.Context, idb bun.IDB, workspaceID, contactID string) (map[string]Value, error) {
	return s.fieldValues(ctx, idb, workspaceID, contactID)
}

type valueRow struct {
	FieldID   string    `bun:"field_id"`
	Key       string    `bun:"key"`
	Type      string    `bun:"type"`
	Value     []byte    `bun:"value"`
	UpdatedBy string    `bun:"updated_by"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func (s *Store) fieldValues(ctx context.Context, idb bun.IDB, workspaceID, contactID string) (map[string]Value, error) {
	q := idb
	if q == nil {
		q = s.d.R
	}
	var rows []valueRow
	if err := q.NewRaw(`SELECT v.field_id, f.key, f.type, v.value, v.updated_by, v.updated_at
		FROM contact_field_values v JOIN contact_fields f ON f.workspace_id = v.workspace_id AND f.id = v.field_id
		WHERE v.workspace_id = ? AND v.contact_id = ? AND f.archived_at IS NULL`, workspaceID, contactID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: field values: %w", err)
	}
	out := make(map[string]Value, len(rows))
	for _, r := range rows {
		aad := valueAAD(workspaceID, contactID, r.FieldID)
		var pt []byte
		var err error
		if idb == nil {
			pt, err = s.kr.OpenContact(ctx, aad, contactID, r.Value)
		} else {
			pt, err = s.kr.OpenContactTx(ctx, idb, aad, contactID, r.Value)
		}
		if errors.Is(err, keyring.ErrKeyDestroyed) {
			return map[string]Value{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("contact: field values: %w", err)
		}
		out[r.Key] = Value{Key: r.Key, Type: FieldType(r.Type), Text: string(pt), UpdatedBy: parseBy(r.UpdatedBy), UpdatedAt: r.UpdatedAt.UTC()}
	}
	return out, nil
}
