package contact_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

var byImport = contact.By{Kind: contact.BySystem}

// create runs Create in a transaction of its own.
func (e *env) create(t *testing.T, ws, first, last string) contact.Contact {
	t.Helper()
	c, err := e.store.Create(context.Background(), nil, ws, contact.NewContact{FirstName: first, LastName: last, By: byImport})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A contact created by hand or by an import has no channel identity, its
// names sealed under its own key and readable back (P-33).
func TestCreateWithoutChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		c, err := e.store.Create(ctx, nil, ws, contact.NewContact{FirstName: "  Sokha ", LastName: "Chea", By: byAgent})
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == "" || c.ChannelID != "" || c.ExternalID != "" || c.CreatedBy != byAgent || c.DisplayName() != "Sokha Chea" {
			t.Fatalf("created %+v", c)
		}
		got, err := e.store.Get(ctx, ws, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("Get differs from what Create returned (-create +get):\n%s", diff)
		}
		if dump := dbtest.DumpText(t, d); strings.Contains(dump, "Sokha") || strings.Contains(dump, "Chea") {
			t.Error("a name reached the database in clear")
		}
		ids, err := e.store.Identities(ctx, ws, c.ID)
		if err != nil || len(ids) != 0 {
			t.Errorf("identities of a channel-less contact = %v, %v", ids, err)
		}
		list, err := e.store.List(ctx, ws, contact.ListOptions{})
		if err != nil || len(list) != 1 || list[0].ID != c.ID {
			t.Errorf("List = %v, %v", list, err)
		}
		// Nameless is fine (a row of phone numbers only).
		if c := e.create(t, ws, "", ""); c.DisplayName() != "" {
			t.Errorf("nameless contact named %q", c.DisplayName())
		}
		// Created inside the caller's transaction: a rollback leaves nothing.
		rollback := errors.New("rollback")
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := e.store.Create(ctx, tx, ws, contact.NewContact{FirstName: "Rolled", By: byImport}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM contacts WHERE workspace_id = ?`, ws).Scan(ctx, &n); err != nil || n != 2 {
			t.Fatalf("contacts = %d, %v", n, err)
		}
	})
}

func TestCreateRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		for _, tc := range []struct {
			name  string
			in    contact.NewContact
			field string // "" when not a field error
		}{
			{"too long", contact.NewContact{FirstName: strings.Repeat("ក", contact.MaxName+1), By: byImport}, "first_name"},
			{"control character", contact.NewContact{LastName: "a\x00b", By: byImport}, "last_name"},
			{"two lines", contact.NewContact{FirstName: "a\nb", By: byImport}, "first_name"},
			{"no author", contact.NewContact{FirstName: "Dara"}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.store.Create(ctx, nil, ws, tc.in)
				if err == nil {
					t.Fatal("accepted")
				}
				if tc.field != "" {
					ve, ok := validate.As(err)
					if !errors.Is(err, contact.ErrInvalid) || !ok || ve.Field != tc.field {
						t.Errorf("err = %v, want ErrInvalid naming %s", err, tc.field)
					}
				}
			})
		}
		if _, err := e.store.Create(ctx, nil, "no-such-workspace", contact.NewContact{FirstName: "Dara", By: byImport}); err == nil {
			t.Error("created a contact in a workspace that does not exist")
		}
		var n int
		if err := d.R.NewRaw(`SELECT (SELECT count(*) FROM contacts) + (SELECT count(*) FROM contact_keys)`).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("refused creations left %d rows, %v", n, err)
		}
	})
}

// A contact lists every channel identity, and each finds it.
func TestIdentitiesAndExternalIDOn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		a, b := e.page(t, ws, "p-a"), e.page(t, ws, "p-b")
		keep, _ := e.upsert(t, a, "psid-a")
		gone, _ := e.upsert(t, b, "psid-b")
		e.now = e.now.Add(time.Second)
		e.merge(t, ws, keep.ID, gone.ID)

		ids, err := e.store.Identities(ctx, ws, keep.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []contact.Identity{
			{ChannelID: a.ID, ExternalID: "psid-a", Since: keep.CreatedAt},
			{ChannelID: b.ID, ExternalID: "psid-b", Merged: true, Since: e.now},
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("identities (-want +got):\n%s", diff)
		}
		for ch, psid := range map[string]string{a.ID: "psid-a", b.ID: "psid-b"} {
			if got, err := e.store.ExternalIDOn(ctx, nil, ws, keep.ID, ch); err != nil || got != psid {
				t.Errorf("ExternalIDOn(%s) = %q, %v; want %s", ch, got, err, psid)
			}
		}
		other := e.page(t, ws, "p-c")
		if _, err := e.store.ExternalIDOn(ctx, nil, ws, keep.ID, other.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("ExternalIDOn a channel without identity: %v", err)
		}
		if _, err := e.store.Identities(ctx, e.workspace(t), keep.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Identities from another workspace: %v", err)
		}

		// The merged-in PSID writes again: Upsert finds the kept contact,
		// as seen on that channel, and creates nobody.
		c, created := e.upsert(t, b, "psid-b")
		if created || c.ID != keep.ID || c.ChannelID != b.ID || c.ExternalID != "psid-b" {
			t.Errorf("upsert of a merged-in identity = %+v, created %v", c, created)
		}
		c, created = e.upsert(t, a, "psid-a")
		if created || c.ID != keep.ID || c.ChannelID != a.ID || c.ExternalID != "psid-a" {
			t.Errorf("upsert of the first identity = %+v, created %v", c, created)
		}
		// The prepared statements agree with bun's.
		if err := e.store.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		if c, created = e.upsert(t, b, "psid-b"); created || c.ID != keep.ID {
			t.Errorf("prepared upsert of a merged-in identity = %+v, created %v", c, created)
		}
	})
}
