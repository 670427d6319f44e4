package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type mergeOut struct {
	Contact struct {
		ID        string
		ChannelID string `json:"channel_id"`
	}
	Identities []struct {
		ChannelID string `json:"channel_id"`
		PSID      string
		Merged    bool
	}
	MergedContactID string `json:"merged_contact_id"`
}

// Promise P-25: an admin merges two contacts of one person on two pages;
// the kept contact has both identities, both conversations with their
// messages readable, and a merge entry on its activity; the other is gone.
func TestMergeContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "merge-owner")
		ws := owner.CreateWorkspace(t, "Merge")
		admin := a.SignUp(t, "merge-admin")
		a.Join(t, owner, ws, admin, "admin")
		base := "/api/v1/workspaces/" + ws
		keep := seedConversation(t, a, ws, "Hello on the first page")
		gone := seedConversation(t, a, ws, "Hello on the second page")

		var out mergeOut
		admin.Do("POST", base+"/contacts/"+keep.contactID+"/merge", map[string]string{"other_contact_id": gone.contactID}).Must(t, 200).JSON(t, &out)
		if out.Contact.ID != keep.contactID || out.MergedContactID != gone.contactID || len(out.Identities) != 2 {
			t.Fatalf("merge answered %+v", out)
		}
		if id := out.Identities[1]; id.ChannelID != gone.channel.ID || id.PSID != gone.psid || !id.Merged || out.Identities[0].Merged {
			t.Errorf("identities = %+v", out.Identities)
		}
		admin.Do("GET", base+"/contacts/"+gone.contactID, nil).Must(t, 404)
		// Both conversations are the kept contact's, their messages readable.
		for _, s := range []seeded{keep, gone} {
			var conv struct{ Contact struct{ ID string } }
			admin.Do("GET", base+"/conversations/"+s.conversationID, nil).Must(t, 200).JSON(t, &conv)
			if conv.Contact.ID != keep.contactID {
				t.Errorf("conversation %s belongs to %s, want the kept contact", s.conversationID, conv.Contact.ID)
			}
			var ms struct {
				Messages []struct{ Content struct{ Text string } }
			}
			admin.Do("GET", base+"/conversations/"+s.conversationID+"/messages", nil).Must(t, 200).JSON(t, &ms)
			if len(ms.Messages) != 1 || !strings.HasPrefix(ms.Messages[0].Content.Text, "Hello on the") {
				t.Errorf("messages of %s after the merge = %+v", s.conversationID, ms.Messages)
			}
		}
		var act struct {
			Activity []struct {
				Kind, Actor string
				Data        map[string]string
			}
		}
		admin.Do("GET", base+"/contacts/"+keep.contactID+"/activity", nil).Must(t, 200).JSON(t, &act)
		if len(act.Activity) == 0 || act.Activity[0].Kind != "merge" || act.Activity[0].Actor != "user:"+admin.ID ||
			len(act.Activity[0].Data) != 1 || act.Activity[0].Data["contact_id"] != gone.contactID {
			t.Errorf("activity after the merge = %+v", act.Activity)
		}
		// A message on the gone contact's page still finds the person.
		ingest(t, a, gone.channel, gone.psid, "m_after_merge", "Still me", a.Clock.Now())
		var conv struct{ Contact struct{ ID string } }
		admin.Do("GET", base+"/conversations/"+gone.conversationID, nil).Must(t, 200).JSON(t, &conv)
		if conv.Contact.ID != keep.contactID {
			t.Errorf("after a new message the conversation belongs to %s", conv.Contact.ID)
		}
	})
}

// Unhappy paths: nothing changes, and the answer says why.
func TestMergeContactsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "refuse-owner")
		ws := owner.CreateWorkspace(t, "Refuse")
		agent, viewer := a.SignUp(t, "refuse-agent"), a.SignUp(t, "refuse-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws
		one := seedConversation(t, a, ws, "Hi")
		other := seedConversation(t, a, ws, "Hi too")
		// A second person on one's page: the same channel.
		ingest(t, a, one.channel, "8000000000000001", "m_same_page", "Another person", a.Clock.Now())
		var samePage string
		if err := d.R.NewRaw(`SELECT id FROM contacts WHERE channel_id = ? AND external_id = ?`, one.channel.ID, "8000000000000001").Scan(t.Context(), &samePage); err != nil {
			t.Fatal(err)
		}
		foreignOwner := a.SignUp(t, "refuse-foreign")
		foreignWS := foreignOwner.CreateWorkspace(t, "Foreign")
		foreign := seedConversation(t, a, foreignWS, "Elsewhere")

		merge := func(c *apptest.Client, keep string, body any) *apptest.Response {
			return c.Do("POST", base+"/contacts/"+keep+"/merge", body)
		}
		for _, tc := range []struct {
			name   string
			c      *apptest.Client
			keep   string
			body   any
			status int
			code   string
			says   string
		}{
			{"itself", owner.Client, one.contactID, map[string]string{"other_contact_id": one.contactID}, 422, "invalid_other_contact_id", "cannot be merged with itself"},
			{"same channel", owner.Client, one.contactID, map[string]string{"other_contact_id": samePage}, 422, "invalid_other_contact_id", "they both write to you on " + one.channel.Name},
			{"no other", owner.Client, one.contactID, map[string]string{}, 422, "invalid_other_contact_id", "Name the contact"},
			{"unknown other", owner.Client, one.contactID, map[string]string{"other_contact_id": "no-such-contact"}, 404, "not_found", ""},
			{"other of another workspace", owner.Client, one.contactID, map[string]string{"other_contact_id": foreign.contactID}, 404, "not_found", ""},
			{"kept of another workspace", owner.Client, foreign.contactID, map[string]string{"other_contact_id": one.contactID}, 404, "not_found", ""},
			{"unknown field", owner.Client, one.contactID, `{"other_contact_id":"` + other.contactID + `","keep":"x"}`, 400, "", ""},
			{"agent", agent.Client, one.contactID, map[string]string{"other_contact_id": other.contactID}, 403, "", ""},
			{"viewer", viewer.Client, one.contactID, map[string]string{"other_contact_id": other.contactID}, 403, "", ""},
			{"anonymous", a.Client(t), one.contactID, map[string]string{"other_contact_id": other.contactID}, 401, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := merge(tc.c, tc.keep, tc.body)
				if res.Status != tc.status {
					t.Fatalf("= %d %s, want %d", res.Status, res.Body, tc.status)
				}
				if tc.code != "" && res.ErrorCode() != tc.code {
					t.Errorf("code %q, want %q", res.ErrorCode(), tc.code)
				}
				if !strings.Contains(string(res.Body), tc.says) {
					t.Errorf("%s does not say %q", res.Body, tc.says)
				}
			})
		}
		// Nothing was merged: every contact is still there.
		for _, id := range []string{one.contactID, other.contactID, samePage} {
			owner.Do("GET", base+"/contacts/"+id, nil).Must(t, 200)
		}
		foreignOwner.Do("GET", fmt.Sprintf("/api/v1/workspaces/%s/contacts/%s", foreignWS, foreign.contactID), nil).Must(t, 200)
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM contact_identities`).Scan(t.Context(), &n); err != nil || n != 0 {
			t.Errorf("%d merged identities, %v", n, err)
		}
	})
}
