package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promises P-34 and P-40 on the dashboard: a viewer reads the privacy
// pages but gets no forms and cannot post any change (403, nothing
// changed); an agent changes flags but cannot export (admins only);
// another workspace's contact is not found; bad input is refused.
func TestPrivacyPagesRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "dsr-owner")
		ws := owner.createWorkspace("Privacy pages")
		viewer, vaddr := s.signUp(t, "dsr-viewer")
		agent, aaddr := s.signUp(t, "dsr-agent")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		s.join(t, owner, ws, agent, aaddr, "agent")
		_, contactID := s.seedConversation(t, ws, "Hello")
		base := "/w/" + ws + "/contacts/" + contactID + "/privacy"

		p := viewer.get(base).want(t, http.StatusOK)
		if strings.Contains(p.Body, `id="flags-form"`) || strings.Contains(p.Body, `id="export-form"`) || !strings.Contains(p.Body, `id="flags-readonly"`) {
			t.Error("the viewer is offered forms")
		}
		for _, path := range []string{"/flags", "/consents", "/requests", "/correction", "/exports"} {
			viewer.post(base+path, url.Values{"restricted": {"on"}, "state": {"withdrawn"}, "source": {"form"}, "kind": {"access"}, "first_name": {"X"}}).want(t, http.StatusForbidden)
		}
		agent.post(base+"/exports", nil).want(t, http.StatusForbidden)
		if why, err := dsr.Blocked(t.Context(), d.R, ws, contactID); err != nil || why != "" {
			t.Fatalf("a viewer's post changed something: %q %v", why, err)
		}
		// The agent logs an objection and answers it with the flag.
		agent.post(base+"/requests", url.Values{"kind": {"objection"}}).redirectsTo(t, base+"?done=logged")
		open, err := s.DSR.List(t.Context(), ws, dsr.Filter{State: "open"})
		if err != nil || len(open) != 1 {
			t.Fatalf("open requests %v, %v", open, err)
		}
		if p := agent.get(base).want(t, http.StatusOK); !strings.Contains(p.Body, `<option value="`+open[0].ID+`">objection`) {
			t.Error("the flags form does not offer the objection to answer")
		}
		agent.post(base+"/flags", url.Values{"objected": {"on"}, "request_id": {open[0].ID}}).redirectsTo(t, base+"?done=flags")
		if why, _ := dsr.Blocked(t.Context(), d.R, ws, contactID); why != dsr.BlockObjected {
			t.Fatalf("blocked %q", why)
		}
		if r, err := s.DSR.Get(t.Context(), ws, open[0].ID); err != nil || r.State != dsr.StateCompleted {
			t.Fatalf("the objection is %s (%v)", r.State, err)
		}
		agent.post(base+"/requests", url.Values{"kind": {"everything"}}).want(t, http.StatusUnprocessableEntity)
		agent.post(base+"/requests", url.Values{"kind": {"access"}, "received_at": {"yesterday"}}).want(t, http.StatusUnprocessableEntity)
		agent.post(base+"/consents", url.Values{"state": {"given"}, "source": {"rumour"}}).want(t, http.StatusUnprocessableEntity)
		list := viewer.get("/w/"+ws+"/privacy-requests?state=all").want(t, http.StatusOK)
		if n := strings.Count(list.Body, `class="list-row dsr-request`); n != 1 {
			t.Errorf("%d requests listed, want the objection only", n)
		}
		viewer.get("/w/"+ws+"/privacy-requests?state=bogus").want(t, http.StatusBadRequest)

		other := owner.createWorkspace("Another")
		_, foreign := s.seedConversation(t, other, "Hi")
		agent.get("/w/"+ws+"/contacts/"+foreign+"/privacy").want(t, http.StatusNotFound)
		owner.post("/w/"+ws+"/contacts/"+foreign+"/privacy/exports", nil).want(t, http.StatusNotFound)
	})
}
