package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/testutil/apptest"
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

// The privacy pages speak the workspace's time: a request's dates and
// deadlines are dates where the shop is (Pacific/Kiritimati, UTC+14, where
// 11:00 UTC on 21 Nov is already 22 Nov), a date typed in the form is that
// zone's date, and an export's link shows when it really stops working:
// sooner than the service's 7 days when the workspace keeps exports 3.
func TestPrivacyPagesUseTheWorkspaceZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d, apptest.Started())
		s.Clock.Advance(2 * time.Hour) // 2026-11-21 11:00 UTC = 22 Nov 01:00 +14
		owner, addr := s.signUp(t, "dsr-zone")
		ws := owner.createWorkspace("Zone")
		owner.post("/w/"+ws+"/settings/general", url.Values{"name": {"Zone"}, "time_zone": {"Pacific/Kiritimati"}}).want(t, http.StatusOK)
		_, contactID := s.seedConversation(t, ws, "Hello")
		base := "/w/" + ws + "/contacts/" + contactID + "/privacy"

		owner.post(base+"/requests", url.Values{"kind": {"access"}}).redirectsTo(t, base+"?done=logged")
		owner.get("/w/"+ws+"/privacy-requests").want(t, http.StatusOK,
			"Received 22 Nov 2026", "Acknowledge by 29 Nov 2026, complete by 22 Dec 2026").
			lacks(t, "Received 21 Nov 2026", "28 Nov 2026")

		// Typed dates are the zone's: the 10th starts at 10:00 UTC on the
		// 9th there, and today's date there means now.
		owner.post(base+"/requests", url.Values{"kind": {"correction"}, "received_at": {"2026-11-10"}}).redirectsTo(t, base+"?done=logged")
		owner.post(base+"/requests", url.Values{"kind": {"erasure"}, "received_at": {"2026-11-22"}}).redirectsTo(t, base+"?done=logged")
		reqs, err := s.DSR.List(t.Context(), ws, dsr.Filter{ContactID: contactID})
		if err != nil {
			t.Fatal(err)
		}
		got := map[dsr.Kind]time.Time{}
		for _, r := range reqs {
			got[r.Kind] = r.ReceivedAt
		}
		if want := time.Date(2026, 11, 9, 10, 0, 0, 0, time.UTC); !got[dsr.KindCorrection].Equal(want) {
			t.Errorf("received on the 10th stored as %v, want %v", got[dsr.KindCorrection], want)
		}
		if want := s.Clock.Now(); !got[dsr.KindErasure].Equal(want) {
			t.Errorf("received today stored as %v, want now %v", got[dsr.KindErasure], want)
		}

		// Exports are kept 3 days: the link says so, and when it ends.
		owner.post("/w/"+ws+"/settings/retention", url.Values{"days_exports": {"3"}}).redirectsTo(t, "/w/"+ws+"/settings/retention")
		owner.post(base+"/exports", nil).redirectsTo(t, base+"?done=export")
		deadline := time.Now().Add(60 * time.Second)
		for {
			exps, err := s.DSR.Exports(t.Context(), ws, contactID)
			if err != nil || len(exps) != 1 {
				t.Fatalf("exports %v %v", exps, err)
			}
			if exps[0].State == dsr.ExportDone {
				break
			}
			if exps[0].State == dsr.ExportFailed || time.Now().After(deadline) {
				t.Fatalf("export %+v", exps[0])
			}
			time.Sleep(20 * time.Millisecond)
		}
		owner.get(base).want(t, http.StatusOK, "The download link works for 3 days", "class=\"export-download\"",
			"(until 25 Nov 2026 01:00 &#43;14)", "started 22 Nov 2026 01:00 &#43;14", "at most 256 MB").lacks(t, "works for 7 days")
		// Past the retention period the link is gone, though the
		// service's own expiry is days away.
		s.Clock.Advance(3*24*time.Hour + time.Minute)
		owner.post("/login", url.Values{"email": {addr}, "password": {password}}) // the session may have ended
		owner.get(base).want(t, http.StatusOK, `data-state="done"`).lacks(t, "export-download")
	})
}

// Promise P-40 on the page: consent given on all channels after a
// withdrawal on one is what is in force, and automation is no longer
// shown as stopped; a withdrawal on all channels is not lifted by consent
// on one.
func TestPrivacyPageConsentInForce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "dsr-consent")
		ws := owner.createWorkspace("Consent")
		_, contactID := s.seedConversation(t, ws, "Hello")
		chs, err := s.Channels.List(t.Context(), ws)
		if err != nil || len(chs) != 1 {
			t.Fatalf("channels %v %v", chs, err)
		}
		base := "/w/" + ws + "/contacts/" + contactID + "/privacy"
		record := func(channel, state string) {
			t.Helper()
			owner.post(base+"/consents", url.Values{"channel_id": {channel}, "state": {state}, "source": {"verbal"}}).redirectsTo(t, base+"?done=consent")
			s.Clock.Advance(time.Minute)
		}
		record(chs[0].ID, "withdrawn")
		owner.get(base).want(t, http.StatusOK, `id="automation-blocked"`, "<strong>withdrawn</strong> on channel "+chs[0].ID)
		record("", "given")
		owner.get(base).want(t, http.StatusOK, `In force: <span class="consent-in-force"><strong>given</strong> on all channels</span> <span class="hint">`).
			lacks(t, `id="automation-blocked"`)
		record("", "withdrawn")
		record(chs[0].ID, "given")
		owner.get(base).want(t, http.StatusOK, `id="automation-blocked"`, "<strong>withdrawn</strong> on all channels", "<strong>given</strong> on channel "+chs[0].ID)
	})
}
