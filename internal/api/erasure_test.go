package api_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-33: an admin erases a contact through the API (204): the
// contact and its conversation are gone (404), erasing again is a 404;
// agents and viewers are refused (403) and change nothing; the workspace's
// other contact stays; the audit log records the erasure without the
// contact's ID.
func TestEraseContactAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "erase-owner")
		ws := owner.CreateWorkspace(t, "Erase")
		admin, agent, viewer := a.SignUp(t, "erase-admin"), a.SignUp(t, "erase-agent"), a.SignUp(t, "erase-viewer")
		a.Join(t, owner, ws, admin, "admin")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws
		gone, kept := seedConversation(t, a, ws, "Please forget me"), seedConversation(t, a, ws, "Keep me")

		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("DELETE", base+"/contacts/"+gone.contactID, nil).Must(t, 403)
			u.Do("DELETE", base+"/conversations/"+gone.conversationID, nil).Must(t, 403)
		}
		admin.Do("GET", base+"/contacts/"+gone.contactID, nil).Must(t, 200)

		res := admin.Do("DELETE", base+"/contacts/"+gone.contactID, nil).Must(t, 204)
		if len(res.Body) != 0 {
			t.Errorf("204 with a body: %s", res.Body)
		}
		admin.Do("GET", base+"/contacts/"+gone.contactID, nil).Must(t, 404)
		admin.Do("GET", base+"/conversations/"+gone.conversationID, nil).Must(t, 404)
		if code := admin.Do("DELETE", base+"/contacts/"+gone.contactID, nil).Must(t, 404).ErrorCode(); code != "not_found" {
			t.Errorf("second erasure: error code %q", code)
		}
		admin.Do("GET", base+"/contacts/"+kept.contactID, nil).Must(t, 200)
		admin.Do("GET", base+"/conversations/"+kept.conversationID+"/messages", nil).Must(t, 200)

		var log struct {
			Entries []struct {
				Action   string
				TargetID string `json:"target_id"`
			}
		}
		owner.Do("GET", base+"/audit-log", nil).Must(t, 200).JSON(t, &log)
		found := false
		for _, e := range log.Entries {
			if e.TargetID == gone.contactID {
				t.Errorf("audit entry %s names the erased contact's ID", e.Action)
			}
			found = found || e.Action == "contact.erase"
		}
		if !found {
			t.Errorf("no contact.erase entry in %+v", log.Entries)
		}
	})
}

// P-33: an admin deletes one conversation (204); its messages are gone,
// the contact stays; another workspace's conversation is a 404 and stays;
// once the trial has ended (read-only), deleting and erasing still work.
func TestDeleteConversationAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner, other := a.SignUp(t, "delconv-owner"), a.SignUp(t, "delconv-other")
		ws, ws2 := owner.CreateWorkspace(t, "Mine"), other.CreateWorkspace(t, "Theirs")
		base := "/api/v1/workspaces/" + ws
		mine, theirs := seedConversation(t, a, ws, "Delete this thread"), seedConversation(t, a, ws2, "Not yours")

		owner.Do("DELETE", base+"/conversations/"+theirs.conversationID, nil).Must(t, 404)
		owner.Do("DELETE", base+"/contacts/"+theirs.contactID, nil).Must(t, 404)
		other.Do("GET", "/api/v1/workspaces/"+ws2+"/conversations/"+theirs.conversationID, nil).Must(t, 200)
		other.Do("GET", "/api/v1/workspaces/"+ws2+"/contacts/"+theirs.contactID, nil).Must(t, 200)

		owner.Do("DELETE", base+"/conversations/"+mine.conversationID, nil).Must(t, 204)
		owner.Do("GET", base+"/conversations/"+mine.conversationID, nil).Must(t, 404)
		owner.Do("GET", base+"/conversations/"+mine.conversationID+"/messages", nil).Must(t, 404)
		owner.Do("GET", base+"/contacts/"+mine.contactID, nil).Must(t, 200)
		owner.Do("DELETE", base+"/conversations/"+mine.conversationID, nil).Must(t, 404)

		// After the trial: erasure is not a feature to pay for.
		later := seedConversation(t, a, ws, "Erase me after the trial")
		a.Clock.Advance(14*24*time.Hour + time.Second)
		owner.Login(t)
		owner.Do("PATCH", base, map[string]string{"name": "Read-only now"}).Must(t, 402)
		owner.Do("DELETE", base+"/conversations/"+later.conversationID, nil).Must(t, 204)
		owner.Do("DELETE", base+"/contacts/"+later.contactID, nil).Must(t, 204)
		owner.Do("DELETE", base+"/contacts/"+mine.contactID, nil).Must(t, 204)
	})
}
