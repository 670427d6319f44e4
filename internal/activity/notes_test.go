package activity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
)

var (
	agent1 = audit.Actor{UserID: "u1"}
	agent2 = audit.Actor{UserID: "u2"}
	key1   = audit.Actor{APIKeyID: "k1"}
)

func TestCheckNote(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"  hello\r\nworld  ", "hello\nworld", true},
		{"tab\tin", "tab\tin", true},
		{"e\u0301", "\u00e9", true}, // NFC
		{strings.Repeat("ក", activity.MaxNote), strings.Repeat("ក", activity.MaxNote), true},
		{strings.Repeat("ក", activity.MaxNote+1), "", false},
		{"", "", false},
		{" \n\t ", "", false},
		{"nul\x00", "", false},
		{"bell\a", "", false},
		{"bad\xff", "", false},
	} {
		got, err := activity.CheckNote(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("CheckNote(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		v, isField := validate.As(err)
		if !errors.Is(err, activity.ErrInvalid) || !isField || v.Field != "text" {
			t.Errorf("CheckNote(%q) = %q, %v; want a text error", tc.in, got, err)
		}
	}
}

// Promise P-25: notes on a contact, changed only by their author or an
// admin, in their own workspace only.
func TestNotes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, ws2 := e.workspace(t), e.workspace(t)
		c := e.contact(t, ws, "psid-1")

		n, err := e.store.AddNote(ctx, agent1, ws, c, "  Wants the red bike ")
		if err != nil {
			t.Fatal(err)
		}
		if n.Kind != activity.KindNote || n.Actor != "user:u1" || n.Data["text"] != "Wants the red bike" || !n.At.Equal(e.now) || !n.EditedAt.IsZero() {
			t.Errorf("AddNote = %+v", n)
		}
		byKey, err := e.store.AddNote(ctx, key1, ws, c, "from the API")
		if err != nil || byKey.Actor != "api_key:k1" {
			t.Errorf("note by an API key = %+v, %v", byKey, err)
		}
		if _, err := e.store.AddNote(ctx, audit.Actor{}, ws, c, "nobody"); !errors.Is(err, activity.ErrInvalid) {
			t.Errorf("a note by nobody: %v", err)
		}
		if _, err := e.store.AddNote(ctx, agent1, ws, c, ""); !errors.Is(err, activity.ErrInvalid) {
			t.Errorf("an empty note: %v", err)
		}
		if _, err := e.store.AddNote(ctx, agent1, ws2, c, "wrong workspace"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a note on another workspace's contact: %v", err)
		}

		// The author edits; another agent cannot; an admin can, audited.
		e.now = e.now.Add(time.Hour)
		ed, err := e.store.EditNote(ctx, agent1, false, ws, n.ID, "Wants the blue bike")
		if err != nil || ed.Data["text"] != "Wants the blue bike" || !ed.EditedAt.Equal(e.now) || ed.Actor != "user:u1" || !ed.At.Equal(n.At) {
			t.Errorf("EditNote by its author = %+v, %v", ed, err)
		}
		if _, err := e.store.EditNote(ctx, agent2, false, ws, n.ID, "mine now"); !errors.Is(err, activity.ErrNotAuthor) {
			t.Errorf("EditNote by another agent: %v", err)
		}
		if err := e.store.DeleteNote(ctx, agent2, false, ws, n.ID); !errors.Is(err, activity.ErrNotAuthor) {
			t.Errorf("DeleteNote by another agent: %v", err)
		}
		if _, err := e.store.EditNote(ctx, agent1, false, ws, n.ID, strings.Repeat("x", activity.MaxNote+1)); !errors.Is(err, activity.ErrInvalid) {
			t.Errorf("EditNote too long: %v", err)
		}
		// Another workspace, even as admin, finds nothing.
		if _, err := e.store.EditNote(ctx, agent1, true, ws2, n.ID, "x"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("EditNote from another workspace: %v", err)
		}
		if err := e.store.DeleteNote(ctx, agent1, true, ws2, n.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("DeleteNote from another workspace: %v", err)
		}
		if got, _ := e.store.Get(ctx, ws, n.ID); got.Data["text"] != "Wants the blue bike" {
			t.Errorf("refused edits changed the note: %+v", got)
		}
		if before := auditCount(t, e, ws); before != 0 {
			t.Errorf("an author's own edit was audited (%d entries)", before)
		}
		if _, err := e.store.EditNote(ctx, agent2, true, ws, n.ID, "Tidied by the admin"); err != nil {
			t.Errorf("EditNote by an admin: %v", err)
		}
		if err := e.store.DeleteNote(ctx, agent2, true, ws, byKey.ID); err != nil {
			t.Errorf("DeleteNote by an admin: %v", err)
		}
		entries := noteAudits(t, e, ws)
		if len(entries) != 2 {
			t.Fatalf("audit: %+v", entries)
		}
		for _, a := range entries {
			if strings.Contains(string(a.Details), "bike") || strings.Contains(string(a.Details), "Tidied") || a.TargetType != "contact_activity" {
				t.Errorf("audit entry %+v", a)
			}
		}

		// Only notes are notes.
		if err := e.record(t, activity.Entry{WorkspaceID: ws, ContactID: c, Kind: activity.KindCall, Actor: "user:u1"}); err != nil {
			t.Fatal(err)
		}
		l, _ := e.store.List(ctx, ws, c, "", 1)
		if _, err := e.store.EditNote(ctx, agent1, true, ws, l[0].ID, "x"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("EditNote on a call: %v", err)
		}
		if err := e.store.DeleteNote(ctx, agent1, true, ws, l[0].ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("DeleteNote on a call: %v", err)
		}

		// The author deletes their own note.
		if err := e.store.DeleteNote(ctx, agent2, false, ws, n.ID); !errors.Is(err, activity.ErrNotAuthor) {
			t.Fatal(err)
		}
		if err := e.store.DeleteNote(ctx, agent1, false, ws, n.ID); err != nil {
			t.Errorf("DeleteNote by its author: %v", err)
		}
		if _, err := e.store.Get(ctx, ws, n.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a deleted note: %v", err)
		}
		if err := e.store.DeleteNote(ctx, agent1, false, ws, n.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("deleting it again: %v", err)
		}
	})
}

func auditCount(t *testing.T, e *env, ws string) int { return len(noteAudits(t, e, ws)) }

// noteAudits returns the workspace's audit entries about notes.
func noteAudits(t *testing.T, e *env, ws string) []audit.Entry {
	t.Helper()
	l, err := audit.List(context.Background(), e.d, audit.Filter{WorkspaceID: ws})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, a := range l {
		if strings.HasPrefix(a.Action, "contact.note.") {
			out = append(out, a)
		}
	}
	return out
}
