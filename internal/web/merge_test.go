package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// mergeSeed is a contact seeded with a conversation on a page of its own,
// a name and tags.
type mergeSeed struct {
	id      string
	channel channel.Channel
}

func (s *site) mergeContact(t *testing.T, ws, text, first, last string, tags ...string) mergeSeed {
	t.Helper()
	ctx := context.Background()
	_, id := s.seedConversation(t, ws, text)
	if err := s.Contacts.SetProfile(ctx, ws, id, channel.Profile{FirstName: first, LastName: last}, contact.ProfileFetched); err != nil {
		t.Fatal(err)
	}
	for _, tg := range tags {
		if _, _, err := s.Contacts.TagContact(ctx, nil, ws, id, tg, true, contact.By{Kind: contact.BySystem}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.Contacts.Get(ctx, ws, id)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Channels.Get(ctx, ws, c.ChannelID)
	if err != nil {
		t.Fatal(err)
	}
	return mergeSeed{id: id, channel: ch}
}

// Promise P-25 in the dashboard: an admin picks the other contact by
// name, sees both side by side with what the merged contact keeps, must
// confirm, and lands on the kept contact's profile with both channels.
// Agents and viewers cannot merge; two people on one page cannot be
// merged; another workspace's contacts are not found.
func TestMergePage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Sokha")
		ws := owner.createWorkspace("Sokha's Shoes")
		agent, aaddr := s.signUp(t, "Vuthy")
		s.join(t, owner, ws, agent, aaddr, "agent")
		viewer, vaddr := s.signUp(t, "Kanha")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		keep := s.mergeContact(t, ws, "Hello from Messenger", "Dara", "Sok", "VIP")
		gone := s.mergeContact(t, ws, "Hello from the other page", "Dara", "S.", "Lead", "vip")
		s.mergeContact(t, ws, "Someone else", "Bopha", "Chan")
		// A second person on keep's page.
		err := s.DB.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			_, err := s.Inbox.Ingest(ctx, tx, keep.channel, []channel.Inbound{{Type: channel.Messenger, Kind: channel.EventMessage,
				AccountID: keep.channel.ExternalID, UserID: "5000000000000001", At: s.Clock.Now(), MID: "m_same_page", Content: channel.Content{Text: "Hi"}}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var samePage string
		if err := d.R.NewRaw(`SELECT id FROM contacts WHERE channel_id = ? AND external_id = ?`, keep.channel.ID, "5000000000000001").Scan(t.Context(), &samePage); err != nil {
			t.Fatal(err)
		}
		base := "/w/" + ws + "/contacts/" + keep.id + "/merge"

		// The profile links to the page for admins only.
		owner.get("/w/"+ws+"/contacts/"+keep.id).want(t, http.StatusOK, base)
		agent.get("/w/"+ws+"/contacts/"+keep.id).want(t, http.StatusOK).lacks(t, base)

		// The picker: everyone else, then filtered by name.
		owner.get(base).want(t, http.StatusOK, "Who is the other contact?", "Dara S.", "Bopha Chan", "?with="+gone.id).lacks(t, "?with="+keep.id+"\"")
		owner.get(base+"?q=dara").want(t, http.StatusOK, "Dara S.").lacks(t, "Bopha Chan")
		owner.get(base+"?q=nobody").want(t, http.StatusOK, "No contact has “nobody” in their name.")

		// The preview: both sides and the result; the confirm form.
		owner.get(base+"?with="+gone.id).want(t, http.StatusOK,
			"Kept: Dara Sok", "Merged in: Dara S.", keep.channel.Name, gone.channel.Name,
			"<strong>VIP</strong>, <strong>Lead</strong>", "Merging cannot be undone.", `name="other_contact_id" value="`+gone.id+`"`)
		// Two people on one page: explained, no form.
		owner.get(base+"?with="+samePage).want(t, http.StatusOK, "These two cannot be merged: both write to you on Messenger · "+keep.channel.Name).
			lacks(t, `name="other_contact_id"`)

		// Refusals change nothing.
		for _, c := range []*client{agent, viewer} {
			c.get(base).want(t, http.StatusForbidden)
			c.post(base, url.Values{"other_contact_id": {gone.id}, "confirm": {"yes"}}).want(t, http.StatusForbidden)
		}
		owner.post(base, url.Values{"other_contact_id": {gone.id}}).want(t, http.StatusUnprocessableEntity, "Tick the box to confirm")
		owner.post(base, url.Values{"other_contact_id": {samePage}, "confirm": {"yes"}}).want(t, http.StatusUnprocessableEntity, "cannot be merged")
		owner.post(base, url.Values{"other_contact_id": {keep.id}, "confirm": {"yes"}}).want(t, http.StatusUnprocessableEntity, "cannot be merged with itself")
		other, _ := s.signUp(t, "Mealea")
		otherWS := other.createWorkspace("Elsewhere")
		foreign := s.mergeContact(t, otherWS, "Elsewhere", "Dara", "Elsewhere")
		owner.get(base+"?with="+foreign.id).want(t, http.StatusNotFound)
		owner.post(base, url.Values{"other_contact_id": {foreign.id}, "confirm": {"yes"}}).want(t, http.StatusNotFound)
		owner.get("/w/"+ws+"/contacts/"+foreign.id+"/merge").want(t, http.StatusNotFound)
		for _, id := range []string{keep.id, gone.id, samePage, foreign.id} {
			if _, err := s.Contacts.Identities(t.Context(), map[bool]string{true: otherWS, false: ws}[id == foreign.id], id); err != nil {
				t.Fatalf("contact %s after refusals: %v", id, err)
			}
		}

		// The merge: to the kept contact's profile, with both channels.
		owner.post(base, url.Values{"other_contact_id": {gone.id}, "confirm": {"yes"}}).redirectsTo(t, "/w/"+ws+"/contacts/"+keep.id)
		owner.get("/w/"+ws+"/contacts/"+keep.id).want(t, http.StatusOK, keep.channel.Name, gone.channel.Name, "merged another contact into this one")
		owner.get("/w/"+ws+"/contacts/"+gone.id).want(t, http.StatusNotFound)
	})
}
