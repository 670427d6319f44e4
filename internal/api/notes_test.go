package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/timeline"
)

type noteOut struct {
	ID             string
	ConversationID string `json:"conversation_id"`
	Actor          string
	AuthorID       string `json:"author_id"`
	Text           string
	Mentions       []string
	EditedAt       *time.Time `json:"edited_at"`
}

type mentionsOut struct {
	Mentions []struct {
		NoteID         string     `json:"note_id"`
		ConversationID string     `json:"conversation_id"`
		ReadAt         *time.Time `json:"read_at"`
		Note           noteOut
	}
	Unread     int
	NextBefore string `json:"next_before"`
}

// mention is how the composer writes a mention of u.
func mention(name string, u *apptest.User) string { return "@[" + name + "](user:" + u.ID + ")" }

// seedNotesAndCanned gives the tenant a note by its owner that mentions
// its viewer, and a canned response.
func seedNotesAndCanned(t *testing.T, tn *tenant) {
	t.Helper()
	base := "/api/v1/workspaces/" + tn.ws
	var n struct{ Note noteOut }
	tn.owner.Do("POST", base+"/conversations/"+tn.conversationID+"/notes", map[string]string{"text": "Call back " + mention("V", tn.viewer)}).
		Must(t, 201).JSON(t, &n)
	var c struct {
		Canned cannedOut `json:"canned_response"`
	}
	tn.owner.Do("POST", base+"/canned-responses", map[string]string{"shortcut": "hello", "title": "Hello", "body": "Hello {{contact.first_name|there}}!"}).
		Must(t, 201).JSON(t, &c)
	tn.noteID, tn.cannedID = n.Note.ID, c.Canned.ID
}

// Issue 5: agents write private notes on a conversation; mentions of
// members (and only members) notify them; bad text is refused and stores
// nothing; viewers cannot write notes.
func TestNotesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		tn := &tenant{owner: a.SignUp(t, "notes")}
		tn.ws = tn.owner.CreateWorkspace(t, "Notes")
		tn.admin, tn.agent, tn.viewer = a.SignUp(t, "notes-admin"), a.SignUp(t, "notes-agent"), a.SignUp(t, "notes-viewer")
		a.Join(t, tn.owner, tn.ws, tn.admin, "admin")
		a.Join(t, tn.owner, tn.ws, tn.agent, "agent")
		a.Join(t, tn.owner, tn.ws, tn.viewer, "viewer")
		stranger := a.SignUp(t, "notes-stranger")
		s := seedConversation(t, a, tn.ws, "hi")
		base := "/api/v1/workspaces/" + tn.ws + "/conversations/" + s.conversationID + "/notes"

		text := "Wants the blue one. " + mention("Viewer", tn.viewer) + " and " + mention("Admin", tn.admin) + " and " + mention("Nobody", stranger)
		var n struct{ Note noteOut }
		tn.agent.Do("POST", base, map[string]string{"text": "  " + text + "  "}).Must(t, 201).JSON(t, &n)
		want := noteOut{ID: n.Note.ID, ConversationID: s.conversationID, Actor: "user:" + tn.agent.ID, AuthorID: tn.agent.ID,
			Text: text, Mentions: []string{tn.viewer.ID, tn.admin.ID}}
		slices.Sort(want.Mentions)
		slices.Sort(n.Note.Mentions)
		if diff := cmp.Diff(want, n.Note); diff != "" {
			t.Errorf("created note (-want +got):\n%s", diff)
		}

		for _, tc := range []struct {
			name, body  string
			status      int
			code, field string
		}{
			{"empty", `{"text":"  "}`, 422, "invalid_text", "text"},
			{"too long", `{"text":"` + strings.Repeat("n", 5001) + `"}`, 422, "invalid_text", "text"},
			{"wrong type", `{"text":5}`, 400, "wrong_type", "text"},
			{"unknown field", `{"text":"x","author_id":"someone"}`, 400, "unknown_field", "author_id"},
		} {
			res := tn.agent.Do("POST", base, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%s: %d %s", tc.name, res.Status, res.Body)
			}
		}
		tn.viewer.Do("POST", base, map[string]string{"text": "mine"}).Must(t, 403)
		tn.agent.Do("POST", "/api/v1/workspaces/"+tn.ws+"/conversations/no-such-conversation/notes", map[string]string{"text": "x"}).Must(t, 404)
		if got := countRows(t, d, "conversation_events WHERE kind = 'note'"); got != 1 {
			t.Fatalf("%d notes after refused ones, want 1", got)
		}

		// The viewer's mentions: unread, then read (twice is harmless).
		mentions := "/api/v1/workspaces/" + tn.ws + "/mentions"
		var ms mentionsOut
		tn.viewer.Do("GET", mentions, nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Mentions) != 1 || ms.Unread != 1 || ms.Mentions[0].NoteID != n.Note.ID || ms.Mentions[0].ReadAt != nil ||
			ms.Mentions[0].Note.Text != text || ms.Mentions[0].ConversationID != s.conversationID {
			t.Fatalf("viewer's mentions: %+v", ms)
		}
		tn.viewer.Do("POST", mentions+"/"+n.Note.ID+"/read", nil).Must(t, 204)
		tn.viewer.Do("POST", mentions+"/"+n.Note.ID+"/read", nil).Must(t, 204)
		tn.viewer.Do("GET", mentions+"?unread=true", nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Mentions) != 0 || ms.Unread != 0 {
			t.Errorf("after reading, unread mentions: %+v", ms)
		}
		tn.viewer.Do("GET", mentions, nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Mentions) != 1 || ms.Mentions[0].ReadAt == nil {
			t.Errorf("the read mention: %+v", ms)
		}
		tn.owner.Do("POST", mentions+"/"+n.Note.ID+"/read", nil).Must(t, 404) // not mentioned
		tn.viewer.Do("POST", mentions+"/no-such-note/read", nil).Must(t, 404)
		tn.viewer.Do("GET", mentions+"?unread=maybe", nil).Must(t, 400)
		tn.viewer.Do("GET", mentions+"?limit=0", nil).Must(t, 400)
		// An API key is nobody to mention: refused, saying why.
		key := a.Client(t)
		var k struct{ Secret string }
		tn.owner.Do("POST", "/api/v1/workspaces/"+tn.ws+"/api-keys", map[string]string{"name": "k", "role": "admin"}).Must(t, 201).JSON(t, &k)
		key.Header.Set("Authorization", "Bearer "+k.Secret)
		if e := errorOf(t, key.Do("GET", mentions, nil).Must(t, 403)); !strings.Contains(e.Error.Message, "API keys") {
			t.Errorf("an API key asking for its mentions: %+v", e)
		}

		// Editing: the author only; mentions follow the text.
		note := base + "/" + n.Note.ID
		if e := errorOf(t, tn.admin.Do("PATCH", note, map[string]string{"text": "pwned"}).Must(t, 403)); e.Error.Code != "not_note_author" || e.Error.Message == "" {
			t.Errorf("an admin editing another's note: %+v", e)
		}
		tn.agent.Do("PATCH", note, map[string]string{}).Must(t, 422)
		a.Clock.Advance(time.Minute)
		var ed struct{ Note noteOut }
		tn.agent.Do("PATCH", note, map[string]string{"text": "Over to " + mention("Owner", tn.owner)}).Must(t, 200).JSON(t, &ed)
		if diff := cmp.Diff([]string{tn.owner.ID}, ed.Note.Mentions); diff != "" || ed.Note.EditedAt == nil || !ed.Note.EditedAt.Equal(a.Clock.Now()) {
			t.Errorf("edited note %+v (mentions -want +got:\n%s)", ed.Note, diff)
		}
		tn.viewer.Do("GET", mentions, nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Mentions) != 0 {
			t.Errorf("the viewer is still mentioned after the edit: %+v", ms)
		}
		tn.owner.Do("GET", mentions, nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Mentions) != 1 || ms.Unread != 1 || ms.Mentions[0].Note.Text != ed.Note.Text {
			t.Errorf("the owner's mentions after the edit: %+v", ms)
		}
		// The note is only found under its own conversation.
		other := seedConversation(t, a, tn.ws, "another")
		tn.agent.Do("PATCH", "/api/v1/workspaces/"+tn.ws+"/conversations/"+other.conversationID+"/notes/"+n.Note.ID, map[string]string{"text": "moved"}).Must(t, 404)
		tn.agent.Do("DELETE", "/api/v1/workspaces/"+tn.ws+"/conversations/"+other.conversationID+"/notes/"+n.Note.ID, nil).Must(t, 404)

		// Deleting: the author, or an admin; not another agent.
		var adminNote struct{ Note noteOut }
		tn.admin.Do("POST", base, map[string]string{"text": "Admin's note"}).Must(t, 201).JSON(t, &adminNote)
		if e := errorOf(t, tn.agent.Do("DELETE", base+"/"+adminNote.Note.ID, nil).Must(t, 403)); e.Error.Code != "not_note_author" {
			t.Errorf("an agent deleting an admin's note: %+v", e)
		}
		tn.viewer.Do("DELETE", note, nil).Must(t, 403)
		tn.admin.Do("DELETE", note, nil).Must(t, 204) // the agent's note, as an admin
		tn.admin.Do("DELETE", note, nil).Must(t, 404)
		tn.admin.Do("DELETE", base+"/"+adminNote.Note.ID, nil).Must(t, 204)
		tn.owner.Do("GET", mentions, nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Mentions) != 0 || ms.Unread != 0 {
			t.Errorf("a deleted note's mention stays: %+v", ms)
		}

		// A note written with an API key is the key's.
		var kn struct{ Note noteOut }
		key.Do("POST", base, map[string]string{"text": "From the CRM sync"}).Must(t, 201).JSON(t, &kn)
		if !strings.HasPrefix(kn.Note.Actor, "api_key:") || kn.Note.AuthorID == "" || kn.Note.AuthorID == tn.owner.ID {
			t.Errorf("a key's note: %+v", kn.Note)
		}
		key.Do("PATCH", base+"/"+kn.Note.ID, map[string]string{"text": "Edited by the key"}).Must(t, 200)
		tn.agent.Do("PATCH", base+"/"+kn.Note.ID, map[string]string{"text": "pwned"}).Must(t, 403)
	})
}

// Promise P-03: workspace A's owner aims every note and mention write at
// workspace B's, with valid bodies: each answers 404 and B is unchanged.
func TestNotesAndCannedTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		A, B := newTenant(t, a, "notea"), newTenant(t, a, "noteb")
		before := snapshot(t, d, B.ws)
		base := "/api/v1/workspaces/" + A.ws
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/conversations/" + B.conversationID + "/notes", map[string]string{"text": "pwned"}},
			{"PATCH", "/conversations/" + B.conversationID + "/notes/" + B.noteID, map[string]string{"text": "pwned"}},
			{"PATCH", "/conversations/" + A.conversationID + "/notes/" + B.noteID, map[string]string{"text": "pwned"}},
			{"DELETE", "/conversations/" + B.conversationID + "/notes/" + B.noteID, nil},
			{"DELETE", "/conversations/" + A.conversationID + "/notes/" + B.noteID, nil},
			{"GET", "/canned-responses/" + B.cannedID, nil},
			{"PATCH", "/canned-responses/" + B.cannedID, map[string]string{"title": "pwned"}},
			{"DELETE", "/canned-responses/" + B.cannedID, nil},
			{"GET", "/canned-responses/" + B.cannedID + "/render?conversation_id=" + A.conversationID, nil},
			{"GET", "/canned-responses/" + A.cannedID + "/render?conversation_id=" + B.conversationID, nil},
		} {
			if res := A.owner.Do(tc.method, base+tc.path, tc.body); res.Status != 404 {
				t.Errorf("%s %s: %d %s, want 404", tc.method, tc.path, res.Status, res.Body)
			}
		}
		// B's viewer is mentioned in B's note; A's viewer cannot read it.
		A.viewer.Do("POST", base+"/mentions/"+B.noteID+"/read", nil).Must(t, 404)
		if after := snapshot(t, d, B.ws); after != before {
			t.Fatalf("workspace B changed:\nbefore %s\nafter  %s", before, after)
		}
		var ms mentionsOut
		A.viewer.Do("GET", base+"/mentions", nil).Must(t, 200).JSON(t, &ms)
		if len(ms.Mentions) != 1 || ms.Mentions[0].NoteID != A.noteID {
			t.Errorf("A's viewer's mentions: %+v", ms)
		}
		var cs struct {
			Canned []cannedOut `json:"canned_responses"`
		}
		A.viewer.Do("GET", base+"/canned-responses", nil).Must(t, 200).JSON(t, &cs)
		if len(cs.Canned) != 1 || cs.Canned[0].ID != A.cannedID {
			t.Errorf("A lists %+v", cs.Canned)
		}
	})
}

// The notes', mentions' and canned responses' answers are what
// openapi.json says: every member documented, the required ones there,
// values of the documented types (an edited note and a read mention
// included, so nullable times are seen both ways).
func TestNotesAndCannedMatchOpenAPI(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, dbtest.SQLite(t))
	tn := &tenant{owner: a.SignUp(t, "shapes")}
	tn.ws = tn.owner.CreateWorkspace(t, "Shapes")
	tn.viewer = a.SignUp(t, "shapes-viewer")
	a.Join(t, tn.owner, tn.ws, tn.viewer, "viewer")
	s := seedConversation(t, a, tn.ws, "hi")
	tn.conversationID = s.conversationID
	seedNotesAndCanned(t, tn)
	base := "/api/v1/workspaces/" + tn.ws

	var note, mentions, list, render map[string]any
	tn.owner.Do("PATCH", base+"/conversations/"+tn.conversationID+"/notes/"+tn.noteID, map[string]string{"text": "Edited " + mention("V", tn.viewer)}).
		Must(t, 200).JSON(t, &note)
	conforms(t, doc, "#/components/schemas/Note", note["note"], "note")
	tn.viewer.Do("GET", base+"/mentions", nil).Must(t, 200).JSON(t, &mentions)
	tn.viewer.Do("POST", base+"/mentions/"+tn.noteID+"/read", nil).Must(t, 204)
	var read map[string]any
	tn.viewer.Do("GET", base+"/mentions", nil).Must(t, 200).JSON(t, &read)
	for _, m := range append(mentions["mentions"].([]any), read["mentions"].([]any)...) {
		conforms(t, doc, "#/components/schemas/Mention", m, "mention")
	}
	tn.viewer.Do("GET", base+"/canned-responses", nil).Must(t, 200).JSON(t, &list)
	for _, c := range list["canned_responses"].([]any) {
		conforms(t, doc, "#/components/schemas/CannedResponse", c, "canned response")
	}
	tn.owner.Do("GET", base+"/canned-responses/"+tn.cannedID+"/render?conversation_id="+tn.conversationID, nil).Must(t, 200).JSON(t, &render)
	if render["text"] != "Hello there!" {
		t.Errorf("rendered %v", render["text"])
	}
	conforms(t, doc, "#/components/schemas/CannedResponse", render["canned_response"], "rendered")
}

// The app hands the inbox its timeline: an ownership change through the
// API is on the conversation's timeline next to the notes.
func TestOwnershipChangesReachTheTimeline(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	owner := a.SignUp(t, "wired")
	ws := owner.CreateWorkspace(t, "Wired")
	s := seedConversation(t, a, ws, "hi")
	base := "/api/v1/workspaces/" + ws + "/conversations/" + s.conversationID
	owner.Do("POST", base+"/notes", map[string]string{"text": "Taking this one"}).Must(t, 201)
	owner.Do("PATCH", base, map[string]string{"owner": "human"}).Must(t, 200)
	es, err := a.Timeline.List(t.Context(), ws, s.conversationID, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[timeline.Kind]bool{}
	for _, e := range es {
		kinds[e.Kind] = true
	}
	if !kinds[timeline.KindNote] || !kinds[timeline.KindOwner] {
		t.Errorf("timeline kinds %v, want a note and an owner change", kinds)
	}
}
