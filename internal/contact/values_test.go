package contact_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var (
	byAgent = contact.By{Kind: contact.ByUser, ID: "user-agent"}
	byFlow  = contact.By{Kind: contact.ByFlow, ID: "flow-welcome"}
)

// defineAll defines one field of every type and returns their keys.
func (e *env) defineAll(t *testing.T, ws string) {
	t.Helper()
	for key, spec := range map[string]contact.FieldSpec{
		"note":       {Label: "Note", Type: contact.FieldText},
		"age":        {Label: "Age", Type: contact.FieldNumber},
		"birthday":   {Label: "Birthday", Type: contact.FieldDate},
		"subscribed": {Label: "Subscribed", Type: contact.FieldBoolean},
		"email":      {Label: "E-mail", Type: contact.FieldEmail},
		"phone":      {Label: "Phone", Type: contact.FieldPhone},
		"city":       {Label: "City", Type: contact.FieldChoice, Choices: []string{"Phnom Penh", "Siem Reap"}},
	} {
		e.define(t, ws, key, spec)
	}
}

// Promises P-15 and P-20: a flow stores typed answers in custom fields,
// inside its own transaction, and they read back normalized with who set
// them and when.
func TestSetFieldValues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		c, _ := e.upsert(t, e.page(t, ws, "p-v"), "psid-v")
		e.defineAll(t, ws)
		e.now = e.now.Add(time.Hour)
		kh := contact.SetOptions{By: byFlow, Region: "KH"}

		answers := map[string]string{
			"note": " likes\r\nrice ", "age": "០៣៥", "birthday": "1991-04-17", "subscribed": "Yes",
			"email": "dara@example.com", "phone": "012 345 678", "city": "siem reap",
		}
		want := map[string]contact.Value{
			"note":       {Key: "note", Type: contact.FieldText, Text: "likes\nrice"},
			"age":        {Key: "age", Type: contact.FieldNumber, Text: "35"},
			"birthday":   {Key: "birthday", Type: contact.FieldDate, Text: "1991-04-17"},
			"subscribed": {Key: "subscribed", Type: contact.FieldBoolean, Text: "true"},
			"email":      {Key: "email", Type: contact.FieldEmail, Text: "dara@example.com"},
			"phone":      {Key: "phone", Type: contact.FieldPhone, Text: "+85512345678"},
			"city":       {Key: "city", Type: contact.FieldChoice, Text: "Siem Reap"},
		}
		for k, v := range want {
			v.UpdatedBy, v.UpdatedAt = byFlow, e.now
			want[k] = v
		}

		// A transaction that fails keeps none of what it set.
		errBoom := errors.New("boom")
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := e.store.SetField(ctx, tx, ws, c.ID, "note", "lost", kh); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		if vals, err := e.store.FieldValues(ctx, ws, c.ID); err != nil || len(vals) != 0 {
			t.Fatalf("values after a rolled back transaction = %+v, %v", vals, err)
		}

		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			for key, raw := range answers {
				v, err := e.store.SetField(ctx, tx, ws, c.ID, key, raw, kh)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(want[key], v); diff != "" {
					t.Errorf("SetField(%s) (-want +got):\n%s", key, diff)
				}
			}
			// The flow reads its own writes before committing.
			vals, err := e.store.FieldValuesTx(ctx, tx, ws, c.ID)
			if diff := cmp.Diff(want, vals); err != nil || diff != "" {
				t.Errorf("FieldValuesTx (-want +got):\n%s %v", diff, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		vals, err := e.store.FieldValues(ctx, ws, c.ID)
		if diff := cmp.Diff(want, vals); err != nil || diff != "" {
			t.Errorf("FieldValues (-want +got):\n%s %v", diff, err)
		}

		// Bad input names the field and changes nothing.
		e.now = e.now.Add(time.Hour)
		for key, raw := range map[string]string{"age": "thirty", "birthday": "1991-02-30", "phone": "12", "city": "Kampot", "email": "dara@", "subscribed": "perhaps"} {
			_, err := e.store.SetField(ctx, nil, ws, c.ID, key, raw, kh)
			wantInvalid(t, err, key)
		}
		if vals, err := e.store.FieldValues(ctx, ws, c.ID); err != nil || !cmp.Equal(want, vals) {
			t.Errorf("refused values changed the stored ones: %+v, %v", vals, err)
		}

		// A new value replaces the old, with its author and time.
		v, err := e.store.SetField(ctx, nil, ws, c.ID, "age", "36", contact.SetOptions{By: byAgent})
		if err != nil || v.Text != "36" || v.UpdatedBy != byAgent || !v.UpdatedAt.Equal(e.now) {
			t.Errorf("overwrite = %+v, %v", v, err)
		}
		if vals, _ := e.store.FieldValues(ctx, ws, c.ID); !cmp.Equal(vals["age"], v) {
			t.Errorf("after overwrite: %+v", vals["age"])
		}
		// A local number needs a region to be read in.
		_, err = e.store.SetField(ctx, nil, ws, c.ID, "phone", "012 345 678", contact.SetOptions{By: byAgent})
		wantInvalid(t, err, "phone")

		if removed, err := e.store.ClearField(ctx, nil, ws, c.ID, "age"); err != nil || !removed {
			t.Errorf("ClearField = %v, %v", removed, err)
		}
		if removed, err := e.store.ClearField(ctx, nil, ws, c.ID, "age"); err != nil || removed {
			t.Errorf("ClearField again = %v, %v", removed, err)
		}
		if vals, _ := e.store.FieldValues(ctx, ws, c.ID); len(vals) != len(want)-1 || vals["age"].Text != "" {
			t.Errorf("after clearing age: %+v", vals)
		}

		if _, err := e.store.SetField(ctx, nil, ws, c.ID, "nope", "x", kh); !errors.Is(err, contact.ErrNoSuchField) {
			t.Errorf("unknown key: %v", err)
		}
		if _, err := e.store.SetField(ctx, nil, ws, c.ID, "note", "x", contact.SetOptions{}); err == nil {
			t.Error("a value without an author was accepted")
		}
		if _, err := e.store.SetField(ctx, nil, ws, "no-such-contact", "note", "x", kh); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown contact: %v", err)
		}
	})
}

// Promise P-15 (stored sealed, like the messages) and P-33: a value is
// sealed under the contact's key, bound to its contact and field, and
// unreadable once that key is destroyed.
func TestFieldValuesAreSealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		ch := e.page(t, ws, "p-s")
		a, _ := e.upsert(t, ch, "psid-a")
		b, _ := e.upsert(t, ch, "psid-b")
		e.defineAll(t, ws)
		secrets := map[string]string{"note": "CANARY-note", "email": "canary.dara@example.com", "phone": "+855 12 345 678"}
		for key, raw := range secrets {
			if _, err := e.store.SetField(ctx, nil, ws, a.ID, key, raw, contact.SetOptions{By: byAgent}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.store.SetField(ctx, nil, ws, b.ID, "note", "other", contact.SetOptions{By: byAgent}); err != nil {
			t.Fatal(err)
		}

		var raws [][]byte
		if err := d.R.NewRaw(`SELECT value FROM contact_field_values WHERE contact_id = ?`, a.ID).Scan(ctx, &raws); err != nil || len(raws) != 3 {
			t.Fatalf("raw values = %d, %v", len(raws), err)
		}
		for _, raw := range raws {
			if h, err := keyring.ParseHeader(raw); err != nil || h.Version != keyring.Version1 {
				t.Errorf("stored value is not an envelope: %v", err)
			}
			for _, s := range []string{"CANARY", "canary", "85512345678"} {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("stored value holds %q in clear", s)
				}
			}
		}
		dump := dbtest.DumpText(t, d)
		for _, s := range []string{"CANARY", "canary", "85512345678"} {
			if strings.Contains(dump, s) {
				t.Errorf("%q is readable in a database dump", s)
			}
		}

		// A sealed value copied to another contact's row does not open.
		note, err := e.store.FieldByKey(ctx, ws, "note")
		if err != nil {
			t.Fatal(err)
		}
		var sealed []byte
		if err := d.R.NewRaw(`SELECT value FROM contact_field_values WHERE contact_id = ? AND field_id = ?`, a.ID, note.ID).Scan(ctx, &sealed); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.NewRaw(`UPDATE contact_field_values SET value = ? WHERE contact_id = ? AND field_id = ?`, sealed, b.ID, note.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.FieldValues(ctx, ws, b.ID); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("a value moved to another contact: %v, want ErrDecrypt", err)
		}

		// Destroying the contact's key erases its values everywhere.
		if err := e.kr.DestroyContactKey(ctx, nil, ws, a.ID); err != nil {
			t.Fatal(err)
		}
		if vals, err := e.store.FieldValues(ctx, ws, a.ID); err != nil || len(vals) != 0 {
			t.Errorf("values after the key was destroyed = %+v, %v", vals, err)
		}
	})
}

// Deleting a contact deletes its values and its tags, and nobody else's.
func TestDeletingAContactDeletesItsData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		ch := e.page(t, ws, "p-del")
		gone, _ := e.upsert(t, ch, "psid-gone")
		kept, _ := e.upsert(t, ch, "psid-kept")
		e.define(t, ws, "note", contact.FieldSpec{Label: "Note", Type: contact.FieldText})
		for _, c := range []contact.Contact{gone, kept} {
			if _, err := e.store.SetField(ctx, nil, ws, c.ID, "note", "hello", contact.SetOptions{By: byAgent}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.store.TagContact(ctx, nil, ws, c.ID, "VIP", true, byAgent); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.W.NewRaw(`DELETE FROM contacts WHERE id = ?`, gone.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"contact_field_values", "contact_tags"} {
			var n int
			if err := d.R.NewRaw(`SELECT count(*) FROM `+table+` WHERE contact_id = ?`, gone.ID).Scan(ctx, &n); err != nil || n != 0 {
				t.Errorf("%s rows of the deleted contact = %d, %v", table, n, err)
			}
			if err := d.R.NewRaw(`SELECT count(*) FROM `+table+` WHERE contact_id = ?`, kept.ID).Scan(ctx, &n); err != nil || n != 1 {
				t.Errorf("%s rows of the other contact = %d, %v", table, n, err)
			}
		}
	})
}

// Promise P-03: a field of workspace A can never be read or set through
// workspace B, nor attached to B's contacts, even by a query that forgets
// to check (the composite foreign keys refuse it).
func TestFieldIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		wsA, wsB := e.workspace(t), e.workspace(t)
		ca, _ := e.upsert(t, e.page(t, wsA, "p-ia"), "psid-ia")
		cb, _ := e.upsert(t, e.page(t, wsB, "p-ib"), "psid-ib")
		fa := e.define(t, wsA, "secret", contact.FieldSpec{Label: "Secret", Type: contact.FieldText})
		if _, err := e.store.SetField(ctx, nil, wsA, ca.ID, "secret", "A's value", contact.SetOptions{By: byAgent}); err != nil {
			t.Fatal(err)
		}
		opt := contact.SetOptions{By: byAgent}

		if _, err := e.store.SetField(ctx, nil, wsB, cb.ID, "secret", "x", opt); !errors.Is(err, contact.ErrNoSuchField) {
			t.Errorf("B sets A's field on its contact: %v", err)
		}
		if _, err := e.store.SetField(ctx, nil, wsA, cb.ID, "secret", "x", opt); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("A's field set on B's contact: %v", err)
		}
		if _, err := e.store.SetField(ctx, nil, wsB, ca.ID, "secret", "x", opt); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B sets a value on A's contact: %v", err)
		}
		if _, err := e.store.ClearField(ctx, nil, wsB, ca.ID, "secret"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B clears A's value: %v", err)
		}
		if vals, err := e.store.FieldValues(ctx, wsB, ca.ID); err != nil || len(vals) != 0 {
			t.Errorf("B reads A's contact's values: %+v, %v", vals, err)
		}
		if _, err := e.store.FieldByKey(ctx, wsB, "secret"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B reads A's field: %v", err)
		}
		if got, err := e.store.Fields(ctx, wsB, true); err != nil || len(got) != 0 {
			t.Errorf("B lists A's fields: %+v, %v", got, err)
		}
		if _, err := e.store.UpdateField(ctx, admin, wsB, "secret", contact.FieldSpec{Label: "X", Type: contact.FieldText}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B updates A's field: %v", err)
		}
		if err := e.store.ArchiveField(ctx, admin, wsB, "secret"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("B archives A's field: %v", err)
		}
		// No key was created for a contact a refused call named.
		var keys int
		if err := d.R.NewRaw(`SELECT count(*) FROM contact_keys WHERE contact_id = ?`, cb.ID).Scan(ctx, &keys); err != nil || keys != 0 {
			t.Errorf("B's contact got %d keys, %v", keys, err)
		}

		// Even with a field of the same key, B cannot reach A's contact.
		e.define(t, wsB, "secret", contact.FieldSpec{Label: "Secret", Type: contact.FieldText})
		if _, err := e.store.SetField(ctx, nil, wsB, ca.ID, "secret", "x", opt); !errors.Is(err, db.ErrNotFound) || errors.Is(err, contact.ErrNoSuchField) {
			t.Errorf("B sets its field on A's contact: %v, want the contact not found", err)
		}
		if vals, err := e.store.FieldValues(ctx, wsA, ca.ID); err != nil || len(vals) != 1 || vals["secret"].Text != "A's value" {
			t.Errorf("A's values after B's attempts = %+v, %v", vals, err)
		}
		if err := d.R.NewRaw(`SELECT count(*) FROM contact_keys WHERE workspace_id = ? AND contact_id = ?`, wsB, ca.ID).Scan(ctx, &keys); err != nil || keys != 0 {
			t.Errorf("A's contact got %d keys in B, %v", keys, err)
		}

		// The database itself refuses a row that mixes workspaces (and
		// accepts the same statement for a consistent row).
		ca2, _ := e.upsert(t, e.page(t, wsA, "p-ia2"), "psid-ia2")
		for _, tt := range []struct {
			name   string
			args   []any
			refuse bool
		}{
			{"A's field on B's contact", []any{cb.ID, fa.ID, wsB}, true},
			{"B's contact under A", []any{cb.ID, fa.ID, wsA}, true},
			{"A's field on A's contact", []any{ca2.ID, fa.ID, wsA}, false},
		} {
			_, err := d.W.NewRaw(`INSERT INTO contact_field_values (contact_id, field_id, workspace_id, value, updated_by, updated_at)
				VALUES (?, ?, ?, ?, '', ?)`, append(tt.args, []byte{1}, e.now)...).Exec(ctx)
			if tt.refuse != isForeignKeyViolation(err) || !tt.refuse && err != nil {
				t.Errorf("%s: insert = %v, want refused %v", tt.name, err, tt.refuse)
			}
		}
	})
}

// isForeignKeyViolation reports whether err is a foreign key violation on
// either engine.
func isForeignKeyViolation(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "FOREIGN KEY constraint failed") || strings.Contains(err.Error(), "SQLSTATE 23503"))
}
