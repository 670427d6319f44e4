package api_test

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// privacyShop is a workspace with one conversation's contact and a member
// of each role.
type privacyShop struct {
	ws, base, contact    string
	owner, agent, viewer *apptest.User
}

func newPrivacyShop(t *testing.T, a *apptest.App, name string) privacyShop {
	t.Helper()
	s := privacyShop{owner: a.SignUp(t, name+"-owner"), agent: a.SignUp(t, name+"-agent"), viewer: a.SignUp(t, name+"-viewer")}
	s.ws = s.owner.CreateWorkspace(t, name)
	a.Join(t, s.owner, s.ws, s.agent, "agent")
	a.Join(t, s.owner, s.ws, s.viewer, "viewer")
	s.base = "/api/v1/workspaces/" + s.ws
	s.contact = seedConversation(t, a, s.ws, "Hello, my name is PRIVACYCANARY").contactID
	return s
}

type privacyRequestOut struct {
	Request struct {
		ID, Kind, State string
		ContactID       *string `json:"contact_id"`
		Overdue         bool
		AcknowledgeBy   time.Time `json:"acknowledge_by"`
		CompleteBy      time.Time `json:"complete_by"`
	}
}

// Promises P-34 and P-40, security.md §3.O O-8: who may do what. Everyone
// reads requests and a contact's privacy state; agents log and answer
// requests, set flags, record consent and correct; only admins export,
// download and erase. Viewers change nothing.
func TestPrivacyRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		s := newPrivacyShop(t, a, "dsr-roles")
		var req privacyRequestOut
		s.agent.Do("POST", s.base+"/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "restriction"}).Must(t, 201).JSON(t, &req)
		rid := req.Request.ID
		c := s.base + "/contacts/" + s.contact
		cases := []struct {
			method, path  string
			body          any
			viewer, agent int
		}{
			{"GET", s.base + "/privacy-requests", nil, 200, 200},
			{"GET", s.base + "/privacy-requests/" + rid, nil, 200, 200},
			{"GET", c + "/privacy", nil, 200, 200},
			{"GET", c + "/access-summary", nil, 200, 200},
			{"POST", s.base + "/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "access"}, 403, 201},
			{"POST", s.base + "/privacy-requests/" + rid + "/acknowledge", nil, 403, 200},
			{"PATCH", c + "/privacy", map[string]any{"minor": true}, 403, 200},
			{"POST", c + "/consents", map[string]string{"state": "given", "source": "form"}, 403, 201},
			{"POST", c + "/corrections", map[string]string{"first_name": "Dara"}, 403, 200},
			{"POST", c + "/exports", nil, 403, 403},
			{"POST", s.base + "/privacy-requests/" + rid + "/erase", nil, 403, 403},
			{"POST", s.base + "/privacy-requests/" + rid + "/refuse", map[string]string{"reason": "Not the person"}, 403, 200},
		}
		for _, c := range cases {
			s.viewer.Do(c.method, c.path, c.body).Must(t, c.viewer)
			s.agent.Do(c.method, c.path, c.body).Must(t, c.agent)
		}
		// What the viewer tried changed nothing: only the agent's changes.
		var pv struct {
			Flags    struct{ Minor bool }
			Consents []any
			Requests []struct{ Kind, State string }
		}
		s.viewer.Do("GET", c+"/privacy", nil).Must(t, 200).JSON(t, &pv)
		if !pv.Flags.Minor || len(pv.Consents) != 1 || len(pv.Requests) != 2 {
			t.Errorf("privacy %+v", pv)
		}
		var audit struct{ Entries []struct{ Action string } }
		s.owner.Do("GET", s.base+"/audit-log", nil).Must(t, 200).JSON(t, &audit)
		seen := map[string]bool{}
		for _, e := range audit.Entries {
			seen[e.Action] = true
		}
		for _, want := range []string{"dsr_request.create", "dsr_request.acknowledge", "dsr_request.refuse", "contact.privacy_flags", "contact.consent", "contact.correct"} {
			if !seen[want] {
				t.Errorf("no %s in the audit log", want)
			}
		}
	})
}

// Bad input gets a clear 4xx naming the field and changes nothing; other
// workspaces' contacts and requests are 404; answering twice is 409.
func TestPrivacyBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		s := newPrivacyShop(t, a, "dsr-bad")
		o := newPrivacyShop(t, a, "dsr-other")
		c := s.base + "/contacts/" + s.contact
		future := a.Clock.Now().Add(72 * time.Hour).Format(time.RFC3339)
		cases := []struct {
			name, method, path string
			body               any
			status             int
			code               string
		}{
			{"unknown kind", "POST", s.base + "/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "everything"}, 422, "invalid_kind"},
			{"future date", "POST", s.base + "/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "access", "received_at": future}, 422, "invalid_received_at"},
			{"other workspace's contact", "POST", s.base + "/privacy-requests", map[string]string{"contact_id": o.contact, "kind": "access"}, 404, "not_found"},
			{"unknown field in body", "POST", s.base + "/privacy-requests", map[string]any{"contact_id": s.contact, "kind": "access", "admin": true}, 400, ""},
			{"bad filter", "GET", s.base + "/privacy-requests?state=bogus", nil, 422, "invalid_state"},
			{"nothing to set", "PATCH", c + "/privacy", map[string]any{}, 422, "invalid_restricted"},
			{"flag not a boolean", "PATCH", c + "/privacy", map[string]any{"minor": "yes"}, 400, ""},
			{"bad source", "POST", c + "/consents", map[string]string{"state": "given", "source": "rumour"}, 422, "invalid_source"},
			{"bad state", "POST", c + "/consents", map[string]string{"state": "perhaps", "source": "form"}, 422, "invalid_state"},
			{"field not a string", "POST", c + "/corrections", map[string]any{"fields": map[string]any{"city": 3}}, 400, "wrong_type"},
			{"name too long", "POST", c + "/corrections", map[string]any{"first_name": strings.Repeat("n", 101)}, 422, "invalid_first_name"},
			{"other workspace's contact privacy", "GET", s.base + "/contacts/" + o.contact + "/privacy", nil, 404, "not_found"},
			{"other workspace's contact export", "POST", s.base + "/contacts/" + o.contact + "/exports", nil, 404, "not_found"},
			{"unknown export", "GET", s.base + "/privacy-exports/nope", nil, 404, "not_found"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := s.owner.Do(tc.method, tc.path, tc.body).Must(t, tc.status)
				if tc.code != "" && res.ErrorCode() != tc.code {
					t.Errorf("code %q, want %q", res.ErrorCode(), tc.code)
				}
			})
		}
		var pv struct {
			Flags    struct{ Restricted, Objected, Minor bool }
			Consents []any
			Requests []any
		}
		s.owner.Do("GET", c+"/privacy", nil).Must(t, 200).JSON(t, &pv)
		if pv.Flags.Restricted || pv.Flags.Objected || pv.Flags.Minor || len(pv.Consents) != 0 || len(pv.Requests) != 0 {
			t.Fatalf("refused input changed something: %+v", pv)
		}
		var req privacyRequestOut
		s.owner.Do("POST", s.base+"/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "access"}).Must(t, 201).JSON(t, &req)
		o.owner.Do("GET", o.base+"/privacy-requests/"+req.Request.ID, nil).Must(t, 404)
		o.owner.Do("POST", o.base+"/privacy-requests/"+req.Request.ID+"/complete", nil).Must(t, 404)
		s.owner.Do("POST", s.base+"/privacy-requests/"+req.Request.ID+"/refuse", map[string]string{"reason": " "}).Must(t, 422)
		s.owner.Do("POST", s.base+"/privacy-requests/"+req.Request.ID+"/complete", nil).Must(t, 200)
		if s.owner.Do("POST", s.base+"/privacy-requests/"+req.Request.ID+"/complete", nil).Must(t, 409).ErrorCode() != "request_closed" {
			t.Error("completing twice")
		}
		// An access request cannot be answered by erasure.
		s.owner.Do("POST", s.base+"/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "access"}).Must(t, 201).JSON(t, &req)
		s.owner.Do("POST", s.base+"/privacy-requests/"+req.Request.ID+"/erase", nil).Must(t, 422)
	})
}

// Promise P-34, security.md §3.O O-7/O-8 through the API: an admin's
// export runs as a job with progress, answers the export request, and its
// zip holds the contact's messages; the download is audit-logged, and the
// link expires (410) after 7 days, on the injected clock. Deadlines and
// overdue come from the same clock.
func TestPrivacyExportThroughAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		s := newPrivacyShop(t, a, "dsr-export")
		var req privacyRequestOut
		s.agent.Do("POST", s.base+"/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "export"}).Must(t, 201).JSON(t, &req)
		if !req.Request.AcknowledgeBy.Equal(a.Clock.Now().Add(7*24*time.Hour)) || !req.Request.CompleteBy.Equal(a.Clock.Now().Add(30*24*time.Hour)) {
			t.Fatalf("deadlines %+v", req.Request)
		}
		var ex struct {
			Export struct {
				ID, State   string
				DownloadURL *string `json:"download_url"`
			}
		}
		s.owner.Do("POST", s.base+"/contacts/"+s.contact+"/exports", map[string]string{"request_id": req.Request.ID}).Must(t, 202).JSON(t, &ex)
		id := ex.Export.ID
		deadline := time.Now().Add(60 * time.Second)
		for ex.Export.State != "done" {
			if time.Now().After(deadline) || ex.Export.State == "failed" {
				t.Fatalf("export %+v", ex.Export)
			}
			time.Sleep(20 * time.Millisecond)
			s.owner.Do("GET", s.base+"/privacy-exports/"+id, nil).Must(t, 200).JSON(t, &ex)
		}
		if ex.Export.DownloadURL == nil {
			t.Fatal("no download link")
		}
		s.agent.Do("GET", *ex.Export.DownloadURL, nil).Must(t, 403)
		res := s.owner.Do("GET", *ex.Export.DownloadURL, nil).Must(t, 200)
		if res.Header.Get("Content-Type") != "application/zip" || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", res.Header)
		}
		zr, err := zip.NewReader(bytes.NewReader(res.Body), int64(len(res.Body)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := zr.Open("contact.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(f)
		if !strings.Contains(string(body), "PRIVACYCANARY") || strings.Contains(string(body), "EAA-seed-token") {
			t.Errorf("contact.json: %s", body)
		}
		s.owner.Do("GET", s.base+"/privacy-requests/"+req.Request.ID, nil).Must(t, 200).JSON(t, &req)
		if req.Request.State != "completed" {
			t.Errorf("the export request is %s", req.Request.State)
		}
		a.Clock.Advance(7 * 24 * time.Hour)
		// Sessions end on the same clock: sign in again.
		for _, u := range []*apptest.User{s.owner, s.agent, s.viewer} {
			u.Login(t)
		}
		if s.owner.Do("GET", *ex.Export.DownloadURL, nil).Must(t, 410).ErrorCode() != "export_expired" {
			t.Error("expired link")
		}
		// A request logged 31 days ago and never answered is overdue.
		old := a.Clock.Now().Add(-31 * 24 * time.Hour).Format(time.RFC3339)
		s.agent.Do("POST", s.base+"/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "access", "received_at": old}).Must(t, 201).JSON(t, &req)
		var list struct{ Requests []struct{ ID string } }
		s.viewer.Do("GET", s.base+"/privacy-requests?state=overdue", nil).Must(t, 200).JSON(t, &list)
		if len(list.Requests) != 1 || list.Requests[0].ID != req.Request.ID {
			t.Errorf("overdue %+v", list)
		}
	})
}

// Promise P-34 (Art 17) through the API: an admin answers an erasure
// request by erasing its contact everywhere (package erasure); the
// request's record stays, completed and naming nobody, and the contact's
// consent records go with it. Agents cannot erase.
func TestPrivacyEraseThroughAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		s := newPrivacyShop(t, a, "dsr-erase")
		c := s.base + "/contacts/" + s.contact
		s.agent.Do("POST", c+"/consents", map[string]string{"state": "withdrawn", "source": "email"}).Must(t, 201)
		var req privacyRequestOut
		s.agent.Do("POST", s.base+"/privacy-requests", map[string]string{"contact_id": s.contact, "kind": "erasure"}).Must(t, 201).JSON(t, &req)
		s.agent.Do("POST", s.base+"/privacy-requests/"+req.Request.ID+"/erase", nil).Must(t, 403)
		s.owner.Do("POST", s.base+"/privacy-requests/"+req.Request.ID+"/erase", nil).Must(t, 200).JSON(t, &req)
		if req.Request.State != "completed" || req.Request.ContactID != nil {
			t.Fatalf("after erasing %+v", req.Request)
		}
		s.owner.Do("GET", c, nil).Must(t, 404)
		s.owner.Do("GET", c+"/privacy", nil).Must(t, 404)
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM contact_consents WHERE contact_id = ?`, s.contact).Scan(t.Context(), &n); err != nil || n != 0 {
			t.Errorf("%d consent records left (%v)", n, err)
		}
		s.owner.Do("POST", s.base+"/privacy-requests/"+req.Request.ID+"/erase", nil).Must(t, 422)
	})
}
