package timeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/timeline"
)

func TestParseMentions(t *testing.T) {
	a, b := "0193a000-0000-7000-8000-00000000000a", "0193a000-0000-7000-8000-00000000000b"
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"none", "plain text @dara", nil},
		{"one", "hi " + mention("Dara", a), []string{a}},
		{"order of appearance, once each", mention("B", b) + mention("A", a) + mention("B again", b), []string{b, a}},
		{"upper-case ID is canonicalized", mention("A", "0193A000-0000-7000-8000-00000000000A"), []string{a}},
		{"not a UUID", "@[x](user:0193a000-0000-7000-8000-00000000000z)", nil},
		{"no name", "@[](user:" + a + ")", nil},
		{"other scheme", "@[x](team:" + a + ")", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, timeline.ParseMentions(tc.text)); diff != "" {
				t.Errorf("ParseMentions(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

func TestMentionsOfMe(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		c1, c2 := e.conversation(t, ws), e.conversation(t, ws)
		author, dara := e.member(t, ws, "agent"), e.member(t, ws, "agent")
		// Dara is also a member of another workspace, which sees none of
		// these mentions.
		if _, err := d.W.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'agent', ?, ?)`,
			other, dara, e.now, e.now).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		var ids []string // newest first
		for i, c := range []conv{c1, c2, c1, c2, c1} {
			e.tick()
			n, err := e.store.AddNote(ctx, user(author), ws, c.id, "note "+string(rune('0'+i))+" "+mention("Dara", dara))
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{n.ID}, ids...)
		}
		page := func(unread bool) []string {
			t.Helper()
			var got []string
			cursor := ""
			for range 10 {
				ms, err := e.store.Mentions(ctx, ws, dara, unread, cursor, 2)
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) == 0 {
					return got
				}
				for _, m := range ms {
					if m.UserID != dara || m.Note.Note == nil || m.Note.ID != m.EventID || m.Note.ConversationID != m.ConversationID {
						t.Errorf("mention = %+v", m)
					}
					got = append(got, m.EventID)
				}
				cursor = ms[len(ms)-1].EventID
			}
			t.Fatal("paging does not end")
			return nil
		}
		if diff := cmp.Diff(ids, page(false)); diff != "" {
			t.Errorf("mentions (-want +got):\n%s", diff)
		}

		// Opening conversation 2 reads its two mentions; one more by hand.
		if n, err := e.store.MarkConversationMentionsRead(ctx, ws, dara, c2.id); err != nil || n != 2 {
			t.Errorf("MarkConversationMentionsRead = %d, %v; want 2", n, err)
		}
		if n, err := e.store.MarkConversationMentionsRead(ctx, ws, dara, c2.id); err != nil || n != 0 {
			t.Errorf("MarkConversationMentionsRead again = %d, %v; want 0", n, err)
		}
		if err := e.store.MarkMentionRead(ctx, ws, dara, ids[0]); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{ids[2], ids[4]}, page(true)); diff != "" {
			t.Errorf("unread mentions (-want +got):\n%s", diff)
		}
		if n, err := e.store.UnreadMentions(ctx, ws, dara); err != nil || n != 2 {
			t.Errorf("UnreadMentions = %d, %v; want 2", n, err)
		}

		// Nothing of it through the other workspace, and nobody marks
		// mentions that are not theirs.
		if ms, err := e.store.Mentions(ctx, other, dara, false, "", 0); err != nil || len(ms) != 0 {
			t.Errorf("mentions through another workspace = %+v, %v", ms, err)
		}
		for _, tc := range []struct{ ws, user, event string }{
			{other, dara, ids[2]},
			{ws, author, ids[2]},
			{ws, dara, "nope"},
		} {
			if err := e.store.MarkMentionRead(ctx, tc.ws, tc.user, tc.event); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("MarkMentionRead(%s, %s, %s) = %v, want ErrNotFound", tc.ws, tc.user, tc.event, err)
			}
		}
		if n, err := e.store.MarkConversationMentionsRead(ctx, other, dara, c1.id); err != nil || n != 0 {
			t.Errorf("MarkConversationMentionsRead through another workspace = %d, %v", n, err)
		}

		// A member who leaves loses their mentions.
		if _, err := d.W.NewRaw(`DELETE FROM members WHERE workspace_id = ? AND user_id = ?`, ws, dara).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if ms, err := e.store.Mentions(ctx, ws, dara, false, "", 0); err != nil || len(ms) != 0 {
			t.Errorf("mentions of a former member = %+v, %v", ms, err)
		}
	})
}
