package timeline_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/timeline"
)

func TestAddNoteKeepsOnlyMembersMentions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		c := e.conversation(t, ws)
		author := e.member(t, ws, "agent")
		dara := e.member(t, ws, "agent")
		sok := e.member(t, ws, "viewer")
		outsider := e.member(t, other, "admin") // another workspace's member
		nobody := e.member(t, "", "")           // a user of no workspace
		unknown := uuid.NewString()             // no such user at all

		text := "  Call back " + mention("Dara", dara) + " and " + mention("Sok", strings.ToUpper(sok)) +
			", not " + mention("Out", outsider) + " " + mention("Nobody", nobody) + " " + mention("?", unknown) +
			" again " + mention("Dara", dara) + " @[broken](user:not-a-uuid)\n"
		got, err := e.store.AddNote(ctx, user(author), ws, c.id, text)
		if err != nil {
			t.Fatal(err)
		}
		wantMentions := []string{dara, sok}
		if dara > sok {
			wantMentions = []string{sok, dara}
		}
		want := timeline.Entry{
			Event: timeline.Event{ID: got.ID, WorkspaceID: ws, ConversationID: c.id, ContactID: c.contactID,
				Kind: timeline.KindNote, Actor: "user:" + author, At: e.now},
			Note: &timeline.Note{Text: strings.TrimSpace(text), Mentions: wantMentions, AuthorID: author},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AddNote (-want +got):\n%s", diff)
		}
		listed, err := e.store.List(ctx, ws, c.id, time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]timeline.Entry{want}, listed); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
		for _, u := range []string{outsider, nobody} {
			for _, w := range []string{ws, other} {
				if ms, err := e.store.Mentions(ctx, w, u, false, "", 0); err != nil || len(ms) != 0 {
					t.Errorf("mentions of a non-member in %s = %+v, %v", w, ms, err)
				}
			}
		}
		ms, err := e.store.Mentions(ctx, ws, dara, false, "", 0)
		if err != nil || len(ms) != 1 || ms[0].EventID != got.ID || ms[0].Note.Note.Text != want.Note.Text || !ms[0].ReadAt.IsZero() {
			t.Errorf("Dara's mentions = %+v, %v", ms, err)
		}

		// The audit log says who wrote which note, never what.
		actions, details := auditDetails(t, d, ws)
		if diff := cmp.Diff([]string{"note.create"}, actions); diff != "" {
			t.Errorf("audit actions (-want +got):\n%s", diff)
		}
		if strings.Contains(details, "Call back") || !strings.Contains(details, c.id) {
			t.Errorf("audit details = %s", details)
		}
	})
}

func TestAddNoteRefuses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		c := e.conversation(t, ws)
		foreign := e.conversation(t, other)
		author := e.member(t, ws, "agent")

		for _, tc := range []struct{ name, text string }{
			{"empty", ""},
			{"blank", " \n\t "},
			{"too long", strings.Repeat("ក", timeline.MaxNoteRunes+1)},
			{"not UTF-8", "bad \xff text"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.store.AddNote(ctx, user(author), ws, c.id, tc.text)
				wantInvalid(t, err, "text")
			})
		}
		if _, err := e.store.AddNote(ctx, user(author), ws, foreign.id, "hello"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a note on another workspace's conversation: %v, want ErrNotFound", err)
		}
		if _, err := e.store.AddNote(ctx, user(author), other, c.id, "hello"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a note through another workspace: %v, want ErrNotFound", err)
		}
		if _, err := e.store.AddNote(ctx, audit.Actor{}, ws, c.id, "hello"); !errors.Is(err, timeline.ErrInvalid) {
			t.Errorf("a note by nobody: %v, want ErrInvalid", err)
		}
		for _, cv := range []conv{c, foreign} {
			if got, err := e.store.List(ctx, cv.ws, cv.id, time.Time{}, time.Time{}, 0); err != nil || len(got) != 0 {
				t.Errorf("refused notes were stored: %+v, %v", got, err)
			}
		}
		// The longest note is accepted, counted in characters, not bytes.
		longest := strings.Repeat("ក", timeline.MaxNoteRunes)
		if got, err := e.store.AddNote(ctx, user(author), ws, c.id, longest); err != nil || got.Note.Text != longest {
			t.Errorf("a note of %d characters: %v", timeline.MaxNoteRunes, err)
		}
		// By an API key.
		if got, err := e.store.AddNote(ctx, audit.Actor{APIKeyID: "k1"}, ws, c.id, "from the API"); err != nil || got.Actor != "api_key:k1" {
			t.Errorf("a note by an API key = %+v, %v", got, err)
		}
	})
}

// Promise P-33: note text is sealed under the contact's key, and gone for
// good once that key is destroyed.
func TestNotesAreSealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		a, b := e.conversation(t, ws), e.conversation(t, ws)
		author := e.member(t, ws, "agent")
		secret := "CANARY-note: owes 40 dollars"
		na, err := e.store.AddNote(ctx, user(author), ws, a.id, secret)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := e.store.AddNote(ctx, user(author), ws, b.id, "other")
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := d.R.NewRaw(`SELECT note FROM conversation_events WHERE id = ?`, na.ID).Scan(ctx, &raw); err != nil {
			t.Fatal(err)
		}
		if h, err := keyring.ParseHeader(raw); err != nil || h.Version != keyring.Version1 {
			t.Errorf("stored note is not an envelope: %v", err)
		}
		if bytes.Contains(raw, []byte("CANARY")) {
			t.Error("the stored note holds its text in clear")
		}
		if dump := dbtest.DumpText(t, d); strings.Contains(dump, "CANARY") {
			t.Error("the note is readable in a database dump")
		}

		// A sealed note copied onto another note does not open.
		if _, err := d.W.NewRaw(`UPDATE conversation_events SET note = ? WHERE id = ?`, raw, nb.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.GetNote(ctx, ws, nb.ID); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("a note moved to another row: %v, want ErrDecrypt", err)
		}

		// Destroying the contact's key erases the note; the event stays.
		if err := e.kr.DestroyContactKey(ctx, nil, ws, a.contactID); err != nil {
			t.Fatal(err)
		}
		got, err := e.store.List(ctx, ws, a.id, time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Note == nil || !got[0].Note.Erased || got[0].Note.Text != "" || got[0].Note.AuthorID != author {
			t.Errorf("note after the key was destroyed = %+v", got)
		}
	})
}

func TestEditAndDeleteNote(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		c := e.conversation(t, ws)
		author := e.member(t, ws, "agent")
		colleague := e.member(t, ws, "agent")
		dara, sok, vann := e.member(t, ws, "agent"), e.member(t, ws, "agent"), e.member(t, ws, "agent")
		stranger := e.member(t, other, "owner")

		n, err := e.store.AddNote(ctx, user(author), ws, c.id, "ask "+mention("Dara", dara)+" and "+mention("Sok", sok))
		if err != nil {
			t.Fatal(err)
		}
		e.tick()
		if err := e.store.MarkMentionRead(ctx, ws, dara, n.ID); err != nil {
			t.Fatal(err)
		}
		readAt := e.now

		// Another workspace cannot read it.
		if _, err := e.store.GetNote(ctx, other, n.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("GetNote through another workspace: %v, want ErrNotFound", err)
		}
		// Only the author edits, only in the note's workspace.
		if _, err := e.store.EditNote(ctx, user(colleague), ws, n.ID, "mine now"); !errors.Is(err, timeline.ErrNotAuthor) {
			t.Errorf("edit by a colleague: %v, want ErrNotAuthor", err)
		}
		if _, err := e.store.EditNote(ctx, user(stranger), other, n.ID, "mine now"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("edit through another workspace: %v, want ErrNotFound", err)
		}
		if _, err := e.store.EditNote(ctx, user(author), ws, n.ID, "   "); !errors.Is(err, timeline.ErrInvalid) {
			t.Errorf("edit to blank: %v, want ErrInvalid", err)
		}

		// Dara stays mentioned (and read), Sok is dropped, Vann is new.
		e.tick()
		edited, err := e.store.EditNote(ctx, user(author), ws, n.ID, "ask "+mention("Dara", dara)+" and "+mention("Vann", vann))
		if err != nil {
			t.Fatal(err)
		}
		if !edited.Note.EditedAt.Equal(e.now) || edited.At != n.At {
			t.Errorf("edited = %+v", edited)
		}
		got, err := e.store.GetNote(ctx, ws, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(edited, got); diff != "" {
			t.Errorf("GetNote after the edit (-EditNote +GetNote):\n%s", diff)
		}
		for _, tc := range []struct {
			who      string
			n        int
			readAt   time.Time
			unreadIs int
		}{{dara, 1, readAt, 0}, {sok, 0, time.Time{}, 0}, {vann, 1, time.Time{}, 1}} {
			ms, err := e.store.Mentions(ctx, ws, tc.who, false, "", 0)
			if err != nil || len(ms) != tc.n || (tc.n == 1 && !ms[0].ReadAt.Equal(tc.readAt)) {
				t.Errorf("mentions of %s after the edit = %+v, %v", tc.who, ms, err)
			}
			if u, err := e.store.UnreadMentions(ctx, ws, tc.who); err != nil || u != tc.unreadIs {
				t.Errorf("unread mentions of %s = %d, %v; want %d", tc.who, u, err, tc.unreadIs)
			}
		}

		// Delete: not by a colleague, not through another workspace, not
		// an event that is not a note.
		if err := e.store.DeleteNote(ctx, user(colleague), ws, n.ID, false); !errors.Is(err, timeline.ErrNotAuthor) {
			t.Errorf("delete by a colleague: %v, want ErrNotAuthor", err)
		}
		if err := e.store.DeleteNote(ctx, user(stranger), other, n.ID, true); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("delete through another workspace: %v, want ErrNotFound", err)
		}
		status := timeline.Event{WorkspaceID: ws, ConversationID: c.id, Kind: timeline.KindStatus, Actor: "user:" + author}
		if err := e.record(t, status); err != nil {
			t.Fatal(err)
		}
		entries, _ := e.store.List(ctx, ws, c.id, time.Time{}, time.Time{}, 0)
		if err := e.store.DeleteNote(ctx, user(author), ws, entries[0].ID, true); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("delete of a status event: %v, want ErrNotFound", err)
		}
		// The author may.
		if err := e.store.DeleteNote(ctx, user(author), ws, n.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.GetNote(ctx, ws, n.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("GetNote after delete: %v", err)
		}
		if ms, err := e.store.Mentions(ctx, ws, vann, false, "", 0); err != nil || len(ms) != 0 {
			t.Errorf("mentions of a deleted note = %+v, %v", ms, err)
		}
		// An admin may delete someone else's note.
		n2, err := e.store.AddNote(ctx, user(author), ws, c.id, "second")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.DeleteNote(ctx, user(colleague), ws, n2.ID, true); err != nil {
			t.Errorf("delete by an admin: %v", err)
		}

		actions, details := auditDetails(t, d, ws)
		if diff := cmp.Diff([]string{"note.delete", "note.create", "note.delete", "note.update", "note.create"}, actions); diff != "" {
			t.Errorf("audit actions (-want +got):\n%s", diff)
		}
		for _, s := range []string{"ask", "second"} {
			if strings.Contains(details, s) {
				t.Errorf("audit details hold note text %q: %s", s, details)
			}
		}
	})
}
