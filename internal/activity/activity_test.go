package activity_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-25: a contact's activity log keeps what happened, newest
// first, page by page, with who did it and when.
func TestRecordAndList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		c := e.contact(t, ws, "psid-1")
		other := e.contact(t, ws, "psid-2")

		var want []activity.Entry
		for i := range 5 {
			e.now = e.now.Add(time.Minute)
			en := activity.Entry{WorkspaceID: ws, ContactID: c, Kind: activity.KindCall, Actor: "api_key:k1",
				Data: map[string]string{"n": fmt.Sprint(i), "duration": "42"}}
			if err := e.record(t, en); err != nil {
				t.Fatal(err)
			}
			en.At = e.now
			want = append([]activity.Entry{en}, want...) // newest first
		}
		if err := e.record(t, activity.Entry{WorkspaceID: ws, ContactID: other, Kind: activity.KindTag, Actor: "system"}); err != nil {
			t.Fatal(err)
		}

		page1, err := e.store.List(ctx, ws, c, "", 3)
		if err != nil || len(page1) != 3 {
			t.Fatalf("first page: %d entries, %v", len(page1), err)
		}
		page2, err := e.store.List(ctx, ws, c, page1[2].ID, 3)
		if err != nil || len(page2) != 2 {
			t.Fatalf("second page: %d entries, %v", len(page2), err)
		}
		got := append(page1, page2...)
		for i := range got {
			if got[i].ID == "" {
				t.Fatalf("entry %d has no ID", i)
			}
			want[i].ID = got[i].ID
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("log (-want +got):\n%s", diff)
		}
		if end, err := e.store.List(ctx, ws, c, page2[1].ID, 3); err != nil || len(end) != 0 {
			t.Errorf("past the end: %v, %v", end, err)
		}
		// A nil Data comes back as an empty map.
		if l, err := e.store.List(ctx, ws, other, "", 0); err != nil || len(l) != 1 || l[0].Data == nil || len(l[0].Data) != 0 {
			t.Errorf("the other contact's log: %+v, %v", l, err)
		}
		if g, err := e.store.Get(ctx, ws, got[0].ID); err != nil || g.ID != got[0].ID || g.Data["n"] != "4" {
			t.Errorf("Get = %+v, %v", g, err)
		}
	})
}

// Record runs in the caller's transaction: a rollback keeps nothing, and
// nothing is written or sealed for bad input or another workspace's
// contact.
func TestRecordRefuses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, ws2 := e.workspace(t), e.workspace(t)
		c := e.contact(t, ws, "psid-1")
		c2 := e.contact(t, ws2, "psid-2")

		errBoom := errors.New("boom")
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := e.store.Record(ctx, tx, activity.Entry{WorkspaceID: ws, ContactID: c, Kind: activity.KindNote, Actor: "user:u1"}); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}

		ok := activity.Entry{WorkspaceID: ws, ContactID: c, Kind: activity.KindNote, Actor: "user:u1"}
		big := map[string]string{"x": strings.Repeat("a", 70<<10)}
		many := map[string]string{}
		for i := range 65 {
			many[fmt.Sprint(i)] = "v"
		}
		for _, tc := range []struct {
			name string
			edit func(*activity.Entry)
			want error
		}{
			{"unknown kind", func(en *activity.Entry) { en.Kind = "gossip" }, activity.ErrInvalid},
			{"no kind", func(en *activity.Entry) { en.Kind = "" }, activity.ErrInvalid},
			{"no actor", func(en *activity.Entry) { en.Actor = "" }, activity.ErrInvalid},
			{"user without ID", func(en *activity.Entry) { en.Actor = "user:" }, activity.ErrInvalid},
			{"unknown actor kind", func(en *activity.Entry) { en.Actor = "robot:1" }, activity.ErrInvalid},
			{"system with ID", func(en *activity.Entry) { en.Actor = "system:1" }, activity.ErrInvalid},
			{"no contact", func(en *activity.Entry) { en.ContactID = "" }, activity.ErrInvalid},
			{"empty data key", func(en *activity.Entry) { en.Data = map[string]string{"": "v"} }, activity.ErrInvalid},
			{"too much data", func(en *activity.Entry) { en.Data = big }, activity.ErrInvalid},
			{"too many keys", func(en *activity.Entry) { en.Data = many }, activity.ErrInvalid},
			{"unknown contact", func(en *activity.Entry) { en.ContactID = "no-such-contact" }, db.ErrNotFound},
			{"another workspace's contact", func(en *activity.Entry) { en.ContactID = c2 }, db.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				en := ok
				tc.edit(&en)
				if err := e.record(t, en); !errors.Is(err, tc.want) {
					t.Errorf("Record = %v, want %v", err, tc.want)
				}
			})
		}
		if err := e.store.Record(ctx, nil, ok); err == nil {
			t.Error("Record without a transaction was accepted")
		}
		if n := count(t, d, `1 = 1`); n != 0 {
			t.Errorf("%d entries written", n)
		}
		// No key was created for the other workspace's contact under ws.
		var keys int
		if err := d.R.NewRaw(`SELECT count(*) FROM contact_keys WHERE workspace_id = ? AND contact_id = ?`, ws, c2).Scan(ctx, &keys); err != nil || keys != 0 {
			t.Errorf("keys for a foreign contact: %d, %v", keys, err)
		}
		// Another workspace sees nothing of ws's log.
		if err := e.record(t, ok); err != nil {
			t.Fatal(err)
		}
		if l, err := e.store.List(ctx, ws2, c, "", 10); err != nil || len(l) != 0 {
			t.Errorf("ws2 lists ws's contact: %v, %v", l, err)
		}
		l, _ := e.store.List(ctx, ws, c, "", 10)
		if _, err := e.store.Get(ctx, ws2, l[0].ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("ws2 gets ws's entry: %v", err)
		}
	})
}

// Promise P-33: an entry's details are sealed under the contact's key,
// bound to their row, and vanish with the contact.
func TestSealedAndErased(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		c := e.contact(t, ws, "psid-1")
		const secret = "ចង់ទិញកង់ call back +85512345678"
		n1, err := e.store.AddNote(ctx, agent1, ws, c, secret)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := e.store.AddNote(ctx, agent1, ws, c, "second")
		if err != nil {
			t.Fatal(err)
		}
		var raws [][]byte
		if err := d.R.NewRaw(`SELECT data FROM contact_activity ORDER BY id`).Scan(ctx, &raws); err != nil {
			t.Fatal(err)
		}
		for _, raw := range raws {
			if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("85512345678")) || bytes.Contains(raw, []byte("second")) {
				t.Fatalf("note text in clear in the database: %q", raw)
			}
		}
		// Details copied to another entry do not open there.
		if _, err := d.W.NewRaw(`UPDATE contact_activity SET data = ? WHERE id = ?`, raws[0], n2.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Get(ctx, ws, n2.ID); err == nil {
			t.Error("details moved to another row opened")
		}
		if got, err := e.store.Get(ctx, ws, n1.ID); err != nil || got.Data["text"] != secret {
			t.Errorf("the note = %+v, %v", got, err)
		}

		e.erase(t, ws, c)
		if n := count(t, d, `contact_id = ?`, c); n != 0 {
			t.Errorf("%d entries outlived their contact", n)
		}
		if l, err := e.store.List(ctx, ws, c, "", 10); err != nil || len(l) != 0 {
			t.Errorf("log of an erased contact: %v, %v", l, err)
		}
	})
}
