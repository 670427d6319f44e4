package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-33 in the dashboard: the contact profile and the conversation
// page link admins to the delete pages, which say what will be gone and
// what stays; a contact's erasure needs the word typed, a conversation's
// the box ticked (422 otherwise, nothing deleted); agents and viewers are
// refused; another workspace's contact is not found; once confirmed the
// contact (or the conversation) is gone and the admin lands on the list.
func TestErasePages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Chenda")
		ws := owner.createWorkspace("Chenda's Cakes")
		agent, aaddr := s.signUp(t, "Piseth")
		s.join(t, owner, ws, agent, aaddr, "agent")
		viewer, vaddr := s.signUp(t, "Sreyneang")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		gone := s.mergeContact(t, ws, "Please delete me", "Dara", "Gone", "VIP")
		keptConv, kept := s.seedConversation(t, ws, "Keep my conversation? no")
		contactPage := "/w/" + ws + "/contacts/" + gone.id
		erase := contactPage + "/delete"
		convPage := "/w/" + ws + "/conversations/" + keptConv
		delConv := convPage + "/delete"

		owner.get(contactPage).want(t, http.StatusOK, erase)
		agent.get(contactPage).want(t, http.StatusOK).lacks(t, erase)
		owner.get(convPage).want(t, http.StatusOK, delConv)
		agent.get(convPage).want(t, http.StatusOK).lacks(t, delConv)

		owner.get(erase).want(t, http.StatusOK, "Delete Dara Gone everywhere", "1 conversation with 1 message", "can no longer be read",
			"What stays", `name="confirm"`)
		owner.get(delConv).want(t, http.StatusOK, "Delete this conversation", "1 message both ways", "as a contact, with their fields")
		for _, c := range []*client{agent, viewer} {
			c.get(erase).want(t, http.StatusForbidden)
			c.post(erase, url.Values{"confirm": {"delete"}}).want(t, http.StatusForbidden)
			c.get(delConv).want(t, http.StatusForbidden)
			c.post(delConv, url.Values{"confirm": {"yes"}}).want(t, http.StatusForbidden)
		}
		owner.post(erase, url.Values{"confirm": {"yes please"}}).want(t, http.StatusUnprocessableEntity, "Type delete to confirm")
		owner.post(erase, nil).want(t, http.StatusUnprocessableEntity, "Type delete to confirm")
		owner.post(delConv, nil).want(t, http.StatusUnprocessableEntity, "Tick the box to confirm")
		owner.get(contactPage).want(t, http.StatusOK)
		owner.get(convPage).want(t, http.StatusOK)

		other, _ := s.signUp(t, "Ratanak")
		otherWS := other.createWorkspace("Elsewhere")
		foreignConv, foreign := s.seedConversation(t, otherWS, "Not yours")
		owner.get("/w/"+ws+"/contacts/"+foreign+"/delete").want(t, http.StatusNotFound)
		owner.post("/w/"+ws+"/contacts/"+foreign+"/delete", url.Values{"confirm": {"delete"}}).want(t, http.StatusNotFound)
		owner.post("/w/"+ws+"/conversations/"+foreignConv+"/delete", url.Values{"confirm": {"yes"}}).want(t, http.StatusNotFound)
		other.get("/w/"+otherWS+"/contacts/"+foreign).want(t, http.StatusOK)

		owner.post(erase, url.Values{"confirm": {" Delete "}}).redirectsTo(t, "/w/"+ws+"/contacts")
		owner.get(contactPage).want(t, http.StatusNotFound)
		owner.post(erase, url.Values{"confirm": {"delete"}}).want(t, http.StatusNotFound)

		owner.post(delConv, url.Values{"confirm": {"yes"}}).redirectsTo(t, "/w/"+ws+"/conversations")
		owner.get(convPage).want(t, http.StatusNotFound)
		owner.get("/w/"+ws+"/contacts/"+kept).want(t, http.StatusOK)
	})
}
