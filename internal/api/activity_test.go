package api_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type activityOut struct {
	ID, Kind, Actor string
	ContactID       string `json:"contact_id"`
	Data            map[string]string
	EditedAt        *string `json:"edited_at"`
}

// Promise P-25: agents write notes on a contact's profile and everyone
// reads its activity, newest first, page by page; only a note's author or
// an admin changes or deletes it; bad text is a 422 and changes nothing;
// a note is found only under its own contact.
func TestContactActivityAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "notes")
		ws := owner.CreateWorkspace(t, "Notes")
		agent, other, viewer := a.SignUp(t, "notes-agent"), a.SignUp(t, "notes-other"), a.SignUp(t, "notes-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, other, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		c1, c2 := seedConversation(t, a, ws, "one").contactID, seedConversation(t, a, ws, "two").contactID
		notes := "/api/v1/workspaces/" + ws + "/contacts/" + c1 + "/notes"
		list := func(u *apptest.User, query string) (out struct {
			Activity   []activityOut
			NextBefore string `json:"next_before"`
		}) {
			u.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/"+c1+"/activity"+query, nil).Must(t, 200).JSON(t, &out)
			return out
		}

		viewer.Do("POST", notes, map[string]string{"text": "hi"}).Must(t, 403)
		for _, text := range []string{"", "   ", strings.Repeat("x", 5001), "bell\x07"} {
			if e := errorOf(t, agent.Do("POST", notes, map[string]string{"text": text}).Must(t, 422)); e.Error.Field != "text" {
				t.Errorf("text %q: %+v", text, e)
			}
		}
		if got := list(viewer, ""); len(got.Activity) != 0 {
			t.Fatalf("refused notes were stored: %+v", got)
		}
		var first, second struct{ Note activityOut }
		agent.Do("POST", notes, map[string]string{"text": "  Wants the blue one  "}).Must(t, 201).JSON(t, &first)
		agent.Do("POST", notes, map[string]string{"text": "Called back, ក្រុមហ៊ុន"}).Must(t, 201).JSON(t, &second)
		if first.Note.Kind != "note" || first.Note.Data["text"] != "Wants the blue one" || first.Note.Actor != "user:"+agent.ID {
			t.Errorf("note %+v", first.Note)
		}
		agent.Do("POST", "/api/v1/workspaces/"+ws+"/contacts/no-such-contact/notes", map[string]string{"text": "x"}).Must(t, 404)

		page := list(viewer, "?limit=1")
		if len(page.Activity) != 1 || page.Activity[0].ID != second.Note.ID || page.NextBefore != second.Note.ID {
			t.Fatalf("first page %+v", page)
		}
		if page = list(viewer, "?limit=1&before="+page.NextBefore); len(page.Activity) != 1 || page.Activity[0].ID != first.Note.ID {
			t.Fatalf("second page %+v", page)
		}
		viewer.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/"+c1+"/activity?limit=0", nil).Must(t, 400)

		one := notes + "/" + first.Note.ID
		if code := other.Do("PATCH", one, map[string]string{"text": "mine now"}).Must(t, 403).ErrorCode(); code != "not_note_author" {
			t.Errorf("another agent editing: %s", code)
		}
		other.Do("DELETE", one, nil).Must(t, 403)
		viewer.Do("PATCH", one, map[string]string{"text": "x"}).Must(t, 403)
		agent.Do("PATCH", one, map[string]string{"text": ""}).Must(t, 422)
		// Under another contact the note does not exist.
		agent.Do("PATCH", "/api/v1/workspaces/"+ws+"/contacts/"+c2+"/notes/"+first.Note.ID, map[string]string{"text": "x"}).Must(t, 404)
		agent.Do("DELETE", "/api/v1/workspaces/"+ws+"/contacts/"+c2+"/notes/"+first.Note.ID, nil).Must(t, 404)

		var edited struct{ Note activityOut }
		agent.Do("PATCH", one, map[string]string{"text": "Wants the green one"}).Must(t, 200).JSON(t, &edited)
		if edited.Note.Data["text"] != "Wants the green one" || edited.Note.EditedAt == nil {
			t.Errorf("edited %+v", edited.Note)
		}
		owner.Do("PATCH", one, map[string]string{"text": "Wants the red one"}).Must(t, 200) // an admin may
		owner.Do("DELETE", notes+"/"+second.Note.ID, nil).Must(t, 204)
		agent.Do("DELETE", one, nil).Must(t, 204)
		agent.Do("DELETE", one, nil).Must(t, 404)
		if got := list(viewer, ""); len(got.Activity) != 0 {
			t.Errorf("deleted notes are still listed: %+v", got)
		}
	})
}
