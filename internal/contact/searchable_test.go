package contact_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// OnSearchableChange hears phone and e-mail values set or cleared (the
// search index re-reads the contact), inside the change's transaction,
// and nothing else; its failure fails the change.
func TestOnSearchableChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		e.define(t, ws, "phone", contact.FieldSpec{Label: "Phone", Type: contact.FieldPhone})
		e.define(t, ws, "email", contact.FieldSpec{Label: "E-mail", Type: contact.FieldEmail})
		e.define(t, ws, "city", contact.FieldSpec{Label: "City", Type: contact.FieldText})
		c := e.create(t, ws, "Dara", "Sok")
		var heard []string
		var fail error
		e.store.OnSearchableChange(func(ctx context.Context, idb bun.IDB, workspaceID, contactID string) error {
			if _, ok := idb.(bun.Tx); !ok {
				t.Error("told outside a transaction")
			}
			heard = append(heard, workspaceID+"/"+contactID)
			return fail
		})
		ctx := context.Background()
		o := contact.SetOptions{By: byAgent, Region: "KH"}
		for _, ch := range []struct{ key, raw string }{{"phone", "012 345 678"}, {"email", "dara@example.com"}, {"city", "Phnom Penh"}} {
			if _, err := e.store.SetField(ctx, nil, ws, c.ID, ch.key, ch.raw, o); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.store.ClearField(ctx, nil, ws, c.ID, "city"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ClearField(ctx, nil, ws, c.ID, "email"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ClearField(ctx, nil, ws, c.ID, "email"); err != nil { // nothing left to clear
			t.Fatal(err)
		}
		err := e.store.ApplyFields(ctx, ws, c.ID, []contact.FieldChange{{Key: "email", Raw: "sok@example.com"}, {Key: "city", Raw: "Siem Reap"}}, o)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{ws + "/" + c.ID, ws + "/" + c.ID, ws + "/" + c.ID, ws + "/" + c.ID}
		if diff := cmp.Diff(want, heard); diff != "" {
			t.Errorf("told (-want +got):\n%s", diff)
		}

		fail = errors.New("index down")
		if _, err := e.store.SetField(ctx, nil, ws, c.ID, "phone", "+855 99 888 777", o); !errors.Is(err, fail) {
			t.Fatalf("a failing listener: %v", err)
		}
		vs, err := e.store.FieldValues(ctx, ws, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := vs["phone"].Text; got != "+85512345678" {
			t.Errorf("phone after a refused change = %q", got)
		}
	})
}
