package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Phone values stored before the phone blind index existed are indexed
// once the app starts, in the background, so that call logs match them
// (P-28); the log line gives a count and no number.
func TestStartIndexesPhonesStoredBeforeTheIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		ctx := context.Background()
		owner := a.SignUp(t, "reindex")
		ws := owner.CreateWorkspace(t, "Reindex")
		if _, err := a.Contacts.DefineField(ctx, audit.Actor{UserID: owner.ID}, ws, "phone", contact.FieldSpec{Label: "Phone", Type: contact.FieldPhone}); err != nil {
			t.Fatal(err)
		}
		by := contact.By{Kind: contact.ByUser, ID: owner.ID}
		const number = "+85512345678"
		c, err := a.Contacts.Create(ctx, nil, ws, contact.NewContact{FirstName: "Dara", By: by})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Contacts.SetField(ctx, nil, ws, c.ID, "phone", number, contact.SetOptions{By: by}); err != nil {
			t.Fatal(err)
		}
		// As before migration 00023: the value without its index row.
		if _, err := d.W.NewRaw(`DELETE FROM contact_phones WHERE workspace_id = ?`, ws).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if ids, err := a.Contacts.ByPhone(ctx, nil, ws, number); err != nil || len(ids) != 0 {
			t.Fatalf("before start: %v, %v", ids, err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			ids, err := a.Contacts.ByPhone(ctx, nil, ws, number)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 1 && ids[0] == c.ID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the phone was not indexed after start: %v", ids)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The log line may come a moment after the row.
		for !strings.Contains(a.Logs.String(), `"indexed":1`) {
			if time.Now().After(deadline) {
				t.Fatalf("no log line with the count:\n%s", a.Logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Contains(a.Logs.String(), "12345678") {
			t.Error("the logs hold the number")
		}
	})
}
