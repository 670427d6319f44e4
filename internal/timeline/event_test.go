package timeline_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/timeline"
)

func TestRecordAndList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		c := e.conversation(t, ws)

		t0 := e.now
		owner := timeline.Event{WorkspaceID: ws, ConversationID: c.id, Kind: timeline.KindOwner, Actor: "system",
			Data: map[string]string{"from": "bot", "to": "human", "reason": "agent_reply"}}
		if err := e.record(t, owner); err != nil {
			t.Fatal(err)
		}
		e.tick()
		// An explicit ID, time and (matching) contact are kept.
		at := e.now.Add(time.Minute)
		seen := timeline.Event{ID: "0193a000-0000-7000-8000-000000000001", WorkspaceID: ws, ConversationID: c.id, ContactID: c.contactID,
			Kind: timeline.KindSeen, Actor: "user:u1", At: at}
		if err := e.record(t, seen); err != nil {
			t.Fatal(err)
		}

		got, err := e.store.List(ctx, ws, c.id, time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("List = %d entries, want 2", len(got))
		}
		if got[1].ID == "" {
			t.Error("Record did not fill the ID")
		}
		owner.ID, owner.ContactID, owner.At = got[1].ID, c.contactID, t0
		want := []timeline.Entry{{Event: seen}, {Event: owner}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
	})
}

func TestRecordRefuses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		c := e.conversation(t, ws)
		foreign := e.conversation(t, other)

		ok := timeline.Event{WorkspaceID: ws, ConversationID: c.id, Kind: timeline.KindStatus, Actor: "user:u1"}
		cases := []struct {
			name string
			edit func(ev *timeline.Event)
			want error
		}{
			{"another workspace's conversation", func(ev *timeline.Event) { ev.ConversationID = foreign.id }, db.ErrNotFound},
			{"no such conversation", func(ev *timeline.Event) { ev.ConversationID = "nope" }, db.ErrNotFound},
			{"no workspace", func(ev *timeline.Event) { ev.WorkspaceID = "" }, db.ErrNotFound},
			{"unknown kind", func(ev *timeline.Event) { ev.Kind = "gossip" }, timeline.ErrInvalid},
			{"a note without its text", func(ev *timeline.Event) { ev.Kind = timeline.KindNote }, timeline.ErrInvalid},
			{"unknown actor", func(ev *timeline.Event) { ev.Actor = "someone" }, timeline.ErrInvalid},
			{"empty user actor", func(ev *timeline.Event) { ev.Actor = "user:" }, timeline.ErrInvalid},
			{"another contact", func(ev *timeline.Event) { ev.ContactID = foreign.contactID }, timeline.ErrInvalid},
			{"data value too long", func(ev *timeline.Event) {
				ev.Data = map[string]string{"k": strings.Repeat("v", timeline.MaxDataValue+1)}
			}, timeline.ErrInvalid},
			{"data key empty", func(ev *timeline.Event) { ev.Data = map[string]string{"": "v"} }, timeline.ErrInvalid},
			{"too much data", func(ev *timeline.Event) {
				ev.Data = map[string]string{}
				for i := range timeline.MaxData + 1 {
					ev.Data[strconv.Itoa(i)] = "v"
				}
			}, timeline.ErrInvalid},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ev := ok
				tc.edit(&ev)
				if err := e.record(t, ev); !errors.Is(err, tc.want) {
					t.Errorf("Record = %v, want %v", err, tc.want)
				}
			})
		}

		// An event recorded in a transaction that fails is gone with it.
		boom := errors.New("boom")
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := e.store.Record(ctx, tx, ok); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		for _, cv := range []conv{c, foreign} {
			if got, err := e.store.List(ctx, cv.ws, cv.id, time.Time{}, time.Time{}, 0); err != nil || len(got) != 0 {
				t.Errorf("List after refusals = %+v, %v", got, err)
			}
		}

		// The same ID twice is a conflict.
		ok.ID = "0193a000-0000-7000-8000-0000000000aa"
		if err := e.record(t, ok); err != nil {
			t.Fatal(err)
		}
		if err := e.record(t, ok); !errors.Is(err, db.ErrConflict) {
			t.Errorf("Record of an ID twice = %v, want ErrConflict", err)
		}

		// Listing another workspace's conversation finds nothing.
		if _, err := e.store.List(ctx, other, c.id, time.Time{}, time.Time{}, 0); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("List under another workspace = %v, want ErrNotFound", err)
		}
	})
}

// Promise P-03: even SQL that skips the store cannot point an event of one
// workspace at another workspace's conversation.
func TestEventCannotCrossWorkspaces(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws, other := e.workspace(t), e.workspace(t)
		foreign := e.conversation(t, other)
		_, err := d.W.NewRaw(`INSERT INTO conversation_events (id, workspace_id, conversation_id, contact_id, kind, actor, created_at)
			VALUES ('x', ?, ?, ?, 'seen', 'system', ?)`, ws, foreign.id, foreign.contactID, e.now).Exec(context.Background())
		if err == nil {
			t.Fatal("the database accepted an event pointing at another workspace's conversation")
		}
	})
}

func TestListPagesAndBounds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		c := e.conversation(t, ws)
		// 7 events over 4 instants: three share the second instant, two
		// the third, so pages of 2 end in the middle of a tie. Every other
		// one is recorded by a store whose statements are not prepared
		// (bun formats the time then, not the driver): both must compare.
		unprepared := timeline.NewStore(d, e.kr, func() time.Time { return e.now })
		var t1 time.Time
		for i, step := range []int{0, 1, 0, 0, 1, 0, 1} {
			e.now = e.now.Add(time.Duration(step) * time.Second)
			ev := timeline.Event{WorkspaceID: ws, ConversationID: c.id, Kind: timeline.KindAssignment, Actor: "system",
				Data: map[string]string{"n": string(rune('a' + i))}}
			store := e.store
			if i%2 == 1 {
				store = unprepared
			}
			if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return store.Record(ctx, tx, ev) }); err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				t1 = e.now
			}
		}
		var got []string
		var before time.Time
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			page, err := e.store.List(ctx, ws, c.id, time.Time{}, before, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for i, en := range page {
				got = append(got, en.Data["n"])
				if i > 0 && en.At.After(page[i-1].At) {
					t.Errorf("page not newest first: %v", page)
				}
			}
			before = page[len(page)-1].At
		}
		want := []string{"g", "f", "e", "d", "c", "b", "a"}
		// Within one instant newest first means by ID, which is the order
		// of recording (UUIDv7).
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("paged events (-want +got):\n%s", diff)
		}

		// after bounds the other side, exclusively: b, c and d are at t1.
		page, err := e.store.List(ctx, ws, c.id, t1, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var newer []string
		for _, en := range page {
			newer = append(newer, en.Data["n"])
		}
		if diff := cmp.Diff([]string{"g", "f", "e"}, newer); diff != "" {
			t.Errorf("after (-want +got):\n%s", diff)
		}

		// Deleting the conversation deletes its timeline.
		if _, err := d.W.NewRaw(`DELETE FROM conversations WHERE id = ?`, c.id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM conversation_events WHERE conversation_id = ?`, c.id).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("events left after the conversation was deleted: %d, %v", n, err)
		}
	})
}
