package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// upload posts a file in a multipart form, the way a browser submits
// <input type="file">.
func (c *client) upload(path, field, filename string, content []byte) *page {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if filename != "" {
		fw, err := mw.CreateFormFile(field, filename)
		if err != nil {
			c.t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	req, err := http.NewRequest("POST", c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

var flowLocation = regexp.MustCompile(`^/w/[0-9a-f-]{36}/flows/([0-9a-f-]{36})$`)

// flowID returns the flow ID of a redirect to the editor.
func flowID(t *testing.T, p *page) string {
	t.Helper()
	m := flowLocation.FindStringSubmatch(p.Location)
	if p.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("got %d to %q, want 303 to a flow's editor; body:\n%s", p.Status, p.Location, excerpt(p.Body))
	}
	return m[1]
}

// The flows list from empty to full: the empty state says what to do,
// "New flow" creates a draft and opens the editor, importing a document
// keeps its triggers (shown in plain words), a document that does not
// parse is refused with the parser's words and stores nothing, and
// archiving and restoring move a flow between the tabs.
func TestFlowsPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		c, _ := s.signUp(t, "Flo")
		ws := c.createWorkspace("Flo's Florist")
		list := "/w/" + ws + "/flows"

		c.get(list).want(t, http.StatusOK, "No flows yet", "Start with a welcome flow", `action="`+list+`"`, `action="`+list+`/import"`, `aria-current="page">Flows<`)

		// A flow needs a name; the error sits next to the field.
		c.post(list, url.Values{"name": {"  "}}).want(t, http.StatusUnprocessableEntity, `id="flow-name-error"`, "Give the flow a name")
		if fs, _ := s.Flows.List(context.Background(), ws, flow.ListOptions{}); len(fs) != 0 {
			t.Fatalf("a refused form created %d flows", len(fs))
		}

		id := flowID(t, c.post(list, url.Values{"name": {"Welcome"}}))
		editor := c.get(list+"/"+id).want(t, http.StatusOK,
			`id="flow-editor"`, `data-workspace="`+ws+`"`, `data-flow="`+id+`"`, `data-can-edit="true"`, `data-list-url="`+list+`"`,
			`<script type="module" src="/static/islands/`, "Loading the editor")
		if !strings.Contains(editor.Body, "/static/islands/build/flow-editor.js") && !strings.Contains(editor.Body, "/static/islands/placeholder/flow-editor.js") {
			t.Error("the editor page loads neither the built island nor its placeholder")
		}
		c.get(list).want(t, http.StatusOK, "Welcome", ">Draft<", "No trigger: it runs only when another flow goes to it", flowAPI(ws, id)+"/export").lacks(t, "No flows yet")

		// Import an example flow (bots as code).
		doc, err := os.ReadFile("../../examples/flows/welcome.json")
		if err != nil {
			t.Fatal(err)
		}
		imported := flowID(t, c.upload(list+"/import", "document", "welcome.json", doc))
		_, draft, err := s.Flows.Get(context.Background(), ws, imported)
		if err != nil {
			t.Fatal(err)
		}
		want, err := flow.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(draft.Nodes) != len(want.Nodes) || draft.Start != want.Start || len(draft.Triggers) != len(want.Triggers) {
			t.Errorf("the imported draft has %d nodes, start %q, %d triggers; the file %d, %q, %d",
				len(draft.Nodes), draft.Start, len(draft.Triggers), len(want.Nodes), want.Start, len(want.Triggers))
		}
		page := c.get(list).want(t, http.StatusOK, want.Name, "Starts when: ")
		for _, tr := range want.Triggers {
			if !strings.Contains(page.Body, htmlEscape(tr.Summary())) {
				t.Errorf("the list does not summarize trigger %s as %q", tr.ID, tr.Summary())
			}
		}

		// Files that are not flows: nothing is stored, and the page says
		// what is wrong, naming the node and member.
		for _, tc := range []struct{ name, file, msg string }{
			{"not JSON", "{nope", "This file is not a flow Parley can read"},
			{"unknown member", `{"format":1,"name":"X","start":"n1","nodes":[{"id":"n1","type":"message","txt":"Hi"}]}`, "n1"},
			{"future format", `{"format":99,"name":"X","start":"n1","nodes":[]}`, "format"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := c.upload(list+"/import", "document", "x.json", []byte(tc.file))
				p.want(t, http.StatusUnprocessableEntity, `id="flow-file-error"`, tc.msg)
				if fs, _ := s.Flows.List(context.Background(), ws, flow.ListOptions{}); len(fs) != 2 {
					t.Errorf("a refused import left %d flows, want 2", len(fs))
				}
			})
		}
		c.upload(list+"/import", "document", "", nil).want(t, http.StatusUnprocessableEntity, "Choose a flow file")

		// Archive, find it under Archived, restore it.
		c.post(list+"/"+id+"/archive", nil).redirectsTo(t, list+"?archived=1")
		c.get(list+"?archived=1").want(t, http.StatusOK, "The flow is archived", "1 archived flow").lacks(t, `/flows/`+id+`"`)
		c.get(list+"?status=archived").want(t, http.StatusOK, "Welcome", `action="`+list+"/"+id+`/restore"`)
		c.get(list+"/"+id).want(t, http.StatusOK, "This flow is archived", `data-can-edit="false"`)
		c.post(list+"/"+id+"/restore", nil).redirectsTo(t, list+"?restored=1")
		c.get(list+"?restored=1").want(t, http.StatusOK, "The flow is restored", `href="`+list+"/"+id+`"`)

		// An unknown flow is a friendly 404.
		c.get(list+"/0190f5a2-7c1e-7d3a-9b8e-2f6c1d4e5a6b").want(t, http.StatusNotFound, "find that page")
	})
}

// flowAPI is a flow's address in the JSON API, which the editor island
// and the export links use.
func flowAPI(ws, id string) string { return "/api/v1/workspaces/" + ws + "/flows/" + id }

// htmlEscape escapes s as html/template writes text.
func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

// Who may do what: viewers and agents see the flows and open the editor
// read-only; only admins create, import, archive and restore; another
// workspace's flow does not exist. The editor island calls the JSON API
// with the same session, and it follows the same rules.
func TestFlowsAccess(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, _ := s.signUp(t, "Ona")
	ws := owner.createWorkspace("Ona's")
	list := "/w/" + ws + "/flows"
	id := flowID(t, owner.post(list, url.Values{"name": {"Welcome"}}))

	viewer, vaddr := s.signUp(t, "Vic")
	s.join(t, owner, ws, viewer, vaddr, "viewer")
	viewer.get(list).want(t, http.StatusOK, "Welcome").lacks(t, `action="`+list+`"`, `/archive"`, `/import"`)
	viewer.get(list+"/"+id).want(t, http.StatusOK, `data-can-edit="false"`)
	viewer.post(list, url.Values{"name": {"Mine"}}).want(t, http.StatusForbidden)
	viewer.post(list+"/"+id+"/archive", nil).want(t, http.StatusForbidden)
	viewer.upload(list+"/import", "document", "x.json", []byte(`{"format":1,"name":"X","start":"","nodes":[]}`)).want(t, http.StatusForbidden)
	// Through the API the editor uses: reading works, saving does not.
	viewer.api("GET", flowAPI(ws, id), nil).want(t, http.StatusOK, `"draft"`)
	viewer.api("PUT", flowAPI(ws, id)+"/draft", map[string]any{"format": 1, "name": "Hacked", "start": "", "nodes": []any{}}).want(t, http.StatusForbidden)

	// Another workspace's flow is not found, in the pages and the API.
	other, _ := s.signUp(t, "Oz")
	ows := other.createWorkspace("Oz's")
	other.get("/w/"+ows+"/flows/"+id).want(t, http.StatusNotFound)
	other.get(list+"/"+id).want(t, http.StatusNotFound)
	other.post("/w/"+ows+"/flows/"+id+"/archive", nil).want(t, http.StatusNotFound)
	other.api("GET", flowAPI(ows, id), nil).want(t, http.StatusNotFound)
}

// The editor island saves through the JSON API with the dashboard's
// session cookie: a same-origin request passes Go's cross-origin
// protection, and a cross-site one (a form or fetch from another site
// riding the cookie) is refused before it changes anything.
func TestFlowAPIFromTheDashboardSession(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, _ := s.signUp(t, "Sia")
	ws := c.createWorkspace("Sia's")
	id := flowID(t, c.post("/w/"+ws+"/flows", url.Values{"name": {"Welcome"}}))
	doc := map[string]any{"format": 1, "name": "Welcome", "triggers": []any{map[string]any{"id": "t1", "type": "keyword", "mode": "contains", "keywords": []string{"hello"}}},
		"start": "n1", "nodes": []any{map[string]any{"id": "n1", "type": "message", "text": "Hi!", "position": map[string]int{"x": 320, "y": 0}}}}

	c.api("PUT", flowAPI(ws, id)+"/draft", doc, "Sec-Fetch-Site", "cross-site").want(t, http.StatusForbidden)
	if _, d, _ := s.Flows.Get(context.Background(), ws, id); len(d.Nodes) != 0 {
		t.Fatal("a cross-site request changed the draft")
	}
	c.api("PUT", flowAPI(ws, id)+"/draft", doc, "Sec-Fetch-Site", "same-origin").want(t, http.StatusOK, `"problems"`)
	_, d, err := s.Flows.Get(context.Background(), ws, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Nodes) != 1 || d.Nodes[0].Position == nil || d.Nodes[0].Position.X != 320 {
		t.Errorf("the saved draft is %+v, want the node with its canvas position", d)
	}
	c.api("POST", flowAPI(ws, id)+"/publish", nil, "Sec-Fetch-Site", "same-origin").want(t, http.StatusOK, `"version":1`)
	c.get("/w/"+ws+"/flows").want(t, http.StatusOK, "Published · v1", "Message contains")
}

// api calls the JSON API with the session cookie, as the editor island
// does with fetch; extra holds header name/value pairs.
func (c *client) api(method, path string, body any, extra ...string) *page {
	c.t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	return c.do(req)
}

// The list shows each flow's state: a draft, a published version, and
// unpublished changes after the draft was edited again.
func TestFlowsListShowsPublishing(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	c, _ := s.signUp(t, "Pat")
	ws := c.createWorkspace("Pat's")
	doc, err := os.ReadFile("../../examples/flows/welcome.json")
	if err != nil {
		t.Fatal(err)
	}
	id := flowID(t, c.upload("/w/"+ws+"/flows/import", "document", "welcome.json", doc))
	c.api("POST", flowAPI(ws, id)+"/publish", nil).want(t, http.StatusOK)
	c.get("/w/"+ws+"/flows").want(t, http.StatusOK, "Published · v1").lacks(t, "Unpublished changes", ">Draft<")
	s.Clock.Advance(time.Minute)
	parsed, _ := flow.Parse(doc)
	parsed.Name = "Welcome, edited"
	c.api("PUT", flowAPI(ws, id)+"/draft", parsed).want(t, http.StatusOK)
	c.get("/w/"+ws+"/flows").want(t, http.StatusOK, "Welcome, edited", "Published · v1", "Unpublished changes")
}
