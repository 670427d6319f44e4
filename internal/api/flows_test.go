package api_test

import (
	"context"
	"encoding/json"
	"mime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// flowSecret is the secret header value of flowDoc: no response, export
// or log line may ever carry it.
const flowSecret = "Bearer CANARY-api-flow-91c2"

// flowDoc is a flow with a secret header; it publishes once the custom
// field order_status exists.
const flowDoc = `{"format": 1, "name": "Order status",
 "triggers": [{"id": "t1", "type": "keyword", "mode": "contains", "keywords": ["order", "ការបញ្ជាទិញ"]}],
 "start": "n1",
 "nodes": [
  {"id": "n1", "type": "message", "text": "Hi {{contact.first_name|there}}!", "next": "n2"},
  {"id": "n2", "type": "http", "method": "GET", "url": "https://api.example.com/orders",
   "headers": [{"name": "Authorization", "value": "` + flowSecret + `", "secret": true}],
   "map": [{"path": "status", "field": "order_status"}], "next": "n3", "failure_next": "n3"},
  {"id": "n3", "type": "message", "text": "Bye"}
 ]}`

// flowOut is a flow as the API returns it.
type flowOut struct {
	ID, Name, Status   string
	PublishedVersion   *int `json:"published_version"`
	UnpublishedChanges bool `json:"unpublished_changes"`
	Triggers           []struct{ ID, Type, Summary string }
	ArchivedAt         *string `json:"archived_at"`
}

// problemOut is a flow.Problem as JSON.
type problemOut struct {
	Severity string
	NodeID   string `json:"node_id"`
	Field    string
	Message  string
}

// problemsOut is an error answer that lists a document's problems.
type problemsOut struct {
	Error    struct{ Code, Field, Message string }
	Problems []problemOut
}

// errorFields lists "node_id field" of the error-level problems.
func errorFields(ps []problemOut) []string {
	var out []string
	for _, p := range ps {
		if p.Severity == "error" {
			out = append(out, p.NodeID+" "+p.Field)
		}
	}
	return out
}

// seedFlow imports flowDoc into tn's workspace through the API and
// publishes it, saving the HTTP answer to a flow variable rather than the
// custom field (the tenant fixture's fields are other tests' business).
func seedFlow(t *testing.T, tn *tenant) {
	t.Helper()
	doc := strings.Replace(flowDoc, `"field": "order_status"`, `"var": "order_status"`, 1)
	var res struct{ Flow flowOut }
	tn.owner.Do("POST", "/api/v1/workspaces/"+tn.ws+"/flows", doc).Must(t, 201).JSON(t, &res)
	tn.owner.Do("POST", "/api/v1/workspaces/"+tn.ws+"/flows/"+res.Flow.ID+"/publish", nil).Must(t, 200)
	tn.flowID = res.Flow.ID
}

func defineOrderStatus(t *testing.T, a *apptest.App, ws string) {
	t.Helper()
	_, err := a.Contacts.DefineField(context.Background(), audit.Actor{UserID: "seed"}, ws, "order_status", contact.FieldSpec{Label: "Order status", Type: contact.FieldText})
	if err != nil {
		t.Fatal(err)
	}
}

// noSecret fails the test if a response carries the secret value.
func noSecret(t *testing.T, what string, res *apptest.Response) {
	t.Helper()
	if strings.Contains(string(res.Body), "CANARY") {
		t.Errorf("%s carries the secret header value: %s", what, res.Body)
	}
}

// Issue 4 item 5: a flow is imported from a document, edited as a draft,
// validated, published atomically as numbered versions, exported and
// archived; secret header values never leave the server (security.md §3.L).
func TestFlowLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "flow-owner")
		ws := owner.CreateWorkspace(t, "Sokha Shop")
		base := "/api/v1/workspaces/" + ws + "/flows"

		// Import: stored as a draft although it does not publish yet.
		var created struct {
			Flow     flowOut
			Problems []problemOut
		}
		res := owner.Do("POST", base, flowDoc).Must(t, 201)
		noSecret(t, "create", res)
		res.JSON(t, &created)
		f := created.Flow
		if f.ID == "" || f.Name != "Order status" || f.Status != "active" || f.PublishedVersion != nil || !f.UnpublishedChanges ||
			len(f.Triggers) != 1 || f.Triggers[0].Summary != "Message contains “order” or “ការបញ្ជាទិញ”" {
			t.Fatalf("created = %s", res.Body)
		}
		if diff := cmp.Diff([]string{"n2 map[0].field"}, errorFields(created.Problems)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}

		// Read: the draft with the secret blanked and marked.
		var got struct {
			Flow     flowOut
			Draft    json.RawMessage
			Problems []problemOut
		}
		res = owner.Do("GET", base+"/"+f.ID, nil).Must(t, 200)
		noSecret(t, "get", res)
		res.JSON(t, &got)
		draft, err := flow.Parse(got.Draft)
		if err != nil {
			t.Fatalf("the draft does not parse: %v\n%s", err, got.Draft)
		}
		n2, _ := draft.Find("n2")
		if h := n2.Body.(*flow.HTTPNode).Headers[0]; h.Value != "" || !h.Secret || h.Name != "Authorization" {
			t.Errorf("the draft's secret header = %+v", h)
		}
		if diff := cmp.Diff([]string{"n2 map[0].field"}, errorFields(got.Problems)); diff != "" {
			t.Errorf("GET problems (-want +got):\n%s", diff)
		}

		// Publishing the invalid draft: 422 with the problems; nothing changes.
		var refused problemsOut
		owner.Do("POST", base+"/"+f.ID+"/publish", nil).Must(t, 422).JSON(t, &refused)
		if refused.Error.Code != "invalid_flow" || refused.Error.Message == "" || len(errorFields(refused.Problems)) != 1 ||
			!strings.Contains(refused.Problems[0].Message, "order_status") {
			t.Fatalf("refused publish = %+v", refused)
		}
		var versions struct{ Versions []struct{ Version int } }
		owner.Do("GET", base+"/"+f.ID+"/versions", nil).Must(t, 200).JSON(t, &versions)
		if len(versions.Versions) != 0 || countRows(t, d, "flow_versions") != 0 || countRows(t, d, "flow_revisions") != 0 {
			t.Fatalf("a refused publish left versions: %+v", versions)
		}

		// With the field defined it publishes as version 1.
		defineOrderStatus(t, a, ws)
		var pub struct {
			Flow     flowOut
			Version  int
			Problems []problemOut
		}
		owner.Do("POST", base+"/"+f.ID+"/publish", nil).Must(t, 200).JSON(t, &pub)
		if pub.Version != 1 || pub.Flow.PublishedVersion == nil || *pub.Flow.PublishedVersion != 1 || pub.Flow.UnpublishedChanges {
			t.Fatalf("publish = %+v", pub)
		}

		// Edit the draft as the editor would: from the redacted copy.
		edited := strings.Replace(string(got.Draft), `"Bye"`, `"Goodbye"`, 1)
		var saved struct {
			Flow     flowOut
			Problems []problemOut
		}
		res = owner.Do("PUT", base+"/"+f.ID+"/draft", edited).Must(t, 200)
		noSecret(t, "save draft", res)
		res.JSON(t, &saved)
		if !saved.Flow.UnpublishedChanges || *saved.Flow.PublishedVersion != 1 || len(errorFields(saved.Problems)) != 0 {
			t.Fatalf("saved = %s", res.Body)
		}
		owner.Do("POST", base+"/"+f.ID+"/publish", nil).Must(t, 200).JSON(t, &pub)
		if pub.Version != 2 {
			t.Fatalf("second publish = %+v", pub)
		}
		// The secret survived the round trip through the redacted draft.
		v2, err := a.Flows.Version(context.Background(), nil, ws, f.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := v2.Find("n2"); n.Body.(*flow.HTTPNode).Headers[0].Value != flowSecret {
			t.Error("saving the redacted draft lost the secret")
		}
		owner.Do("GET", base+"/"+f.ID+"/versions", nil).Must(t, 200).JSON(t, &versions)
		if len(versions.Versions) != 2 || versions.Versions[0].Version != 2 || versions.Versions[1].Version != 1 {
			t.Errorf("versions = %+v", versions)
		}

		// Export: the draft and each version, as attachments, without secrets.
		for _, tc := range []struct{ query, text, file string }{
			{"", "Goodbye", "Order-status.json"}, {"?version=1", `"Bye"`, "Order-status-v1.json"}, {"?version=2", "Goodbye", "Order-status-v2.json"},
		} {
			res := owner.Do("GET", base+"/"+f.ID+"/export"+tc.query, nil).Must(t, 200)
			noSecret(t, "export"+tc.query, res)
			if !strings.Contains(string(res.Body), tc.text) {
				t.Errorf("export%s: %s", tc.query, res.Body)
			}
			if _, err := flow.Parse(res.Body); err != nil {
				t.Errorf("export%s does not import: %v", tc.query, err)
			}
			_, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
			if err != nil || params["filename"] != tc.file || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
				t.Errorf("export%s: Content-Disposition %q", tc.query, res.Header.Get("Content-Disposition"))
			}
		}
		owner.Do("GET", base+"/"+f.ID+"/export?version=3", nil).Must(t, 404)
		for _, bad := range []string{"0", "-1", "two", "1.5"} {
			if code := owner.Do("GET", base+"/"+f.ID+"/export?version="+bad, nil).Must(t, 400).ErrorCode(); code != "invalid_version" {
				t.Errorf("version=%s: %q", bad, code)
			}
		}

		// Archived: listed as such, cannot be edited or published; restored: back.
		var arch struct{ Flow flowOut }
		owner.Do("POST", base+"/"+f.ID+"/archive", nil).Must(t, 200).JSON(t, &arch)
		if arch.Flow.Status != "archived" || arch.Flow.ArchivedAt == nil {
			t.Fatalf("archived = %+v", arch)
		}
		if code := owner.Do("POST", base+"/"+f.ID+"/publish", nil).Must(t, 409).ErrorCode(); code != "flow_archived" {
			t.Errorf("publishing an archived flow: %q", code)
		}
		if code := owner.Do("PUT", base+"/"+f.ID+"/draft", edited).Must(t, 409).ErrorCode(); code != "flow_archived" {
			t.Errorf("editing an archived flow: %q", code)
		}
		var list struct{ Flows []flowOut }
		owner.Do("GET", base+"?status=archived", nil).Must(t, 200).JSON(t, &list)
		if len(list.Flows) != 1 || list.Flows[0].ID != f.ID {
			t.Errorf("archived list = %+v", list)
		}
		owner.Do("GET", base+"?status=active", nil).Must(t, 200).JSON(t, &list)
		if len(list.Flows) != 0 {
			t.Errorf("active list = %+v", list)
		}
		if code := owner.Do("GET", base+"?status=deleted", nil).Must(t, 400).ErrorCode(); code != "invalid_status" {
			t.Errorf("bad status filter: %q", code)
		}
		owner.Do("POST", base+"/"+f.ID+"/restore", nil).Must(t, 200).JSON(t, &arch)
		if arch.Flow.Status != "active" || arch.Flow.ArchivedAt != nil || *arch.Flow.PublishedVersion != 2 {
			t.Errorf("restored = %+v", arch)
		}
		owner.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Flows) != 1 {
			t.Errorf("list = %+v", list)
		}

		if logs := a.Logs.String(); strings.Contains(logs, "CANARY") {
			t.Error("a log line carries the secret header value")
		}
		var auditLog struct{ Entries []struct{ Action string } }
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/audit-log", nil).Must(t, 200).JSON(t, &auditLog)
		var actions []string
		for _, e := range auditLog.Entries {
			if strings.HasPrefix(e.Action, "flow.") {
				actions = append([]string{e.Action}, actions...)
			}
		}
		want := []string{"flow.create", "flow.publish", "flow.save_draft", "flow.publish", "flow.archive", "flow.restore"}
		if diff := cmp.Diff(want, actions); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

// Bad documents get a 400 naming the node and field (also as a problem),
// the wrong content type 415, an oversized body 413, a bad name 422; none
// of them stores or changes anything.
func TestFlowInputErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "flow-input")
		ws := owner.CreateWorkspace(t, "Input")
		base := "/api/v1/workspaces/" + ws + "/flows"
		var f struct{ Flow flowOut }
		owner.Do("POST", base, flowDoc).Must(t, 201).JSON(t, &f)
		before := owner.Do("GET", base+"/"+f.Flow.ID, nil).Must(t, 200).Body

		valid := func(from, to string) string { return strings.Replace(flowDoc, from, to, 1) }
		for _, tc := range []struct {
			name        string
			body        string
			status      int
			code        string
			node, field string
		}{
			{"malformed json", `{"format": 1, "nodes": [`, 400, "invalid_document", "", ""},
			{"not an object", `[1, 2]`, 400, "invalid_document", "", ""},
			{"empty body", ``, 400, "empty_body", "", ""},
			{"blank body", "  \n", 400, "empty_body", "", ""},
			{"no format", valid(`"format": 1,`, ``), 400, "unsupported_format", "", "format"},
			{"future format", valid(`"format": 1`, `"format": 2`), 400, "unsupported_format", "", "format"},
			{"unknown member", valid(`"text": "Bye"`, `"text": "Bye", "colour": "red"`), 400, "invalid_document", "n3", "colour"},
			{"unknown node type", valid(`"type": "http"`, `"type": "webhook"`), 400, "invalid_document", "n2", "type"},
			{"wrong kind", valid(`"text": "Bye"`, `"text": 42`), 400, "invalid_document", "n3", "text"},
			{"bad node ID", valid(`"id": "n3"`, `"id": "n 3"`), 400, "invalid_document", "", "nodes[2].id"},
			{"too many nodes", tooManyNodes(), 400, "invalid_document", "", "nodes"},
			{"over 1 MiB", valid(`"Bye"`, `"`+strings.Repeat("x", flow.MaxDocumentBytes)+`"`), 413, "body_too_large", "", ""},
			{"no name", valid(`"name": "Order status",`, ``), 422, "invalid_name", "", "name"},
			{"blank name", valid(`"Order status"`, `"   "`), 422, "invalid_name", "", "name"},
			{"long name", valid(`"Order status"`, `"`+strings.Repeat("ន", 201)+`"`), 422, "invalid_name", "", "name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, req := range []struct{ method, path string }{{"POST", base}, {"PUT", base + "/" + f.Flow.ID + "/draft"}} {
					res := owner.Do(req.method, req.path, tc.body)
					var e problemsOut
					res.JSON(t, &e)
					if res.Status != tc.status || e.Error.Code != tc.code || e.Error.Message == "" || (tc.field != "" && e.Error.Field != tc.field) {
						t.Fatalf("%s: got %d %.300s, want %d %s on %q", req.method, res.Status, res.Body, tc.status, tc.code, tc.field)
					}
					if tc.status == 400 && tc.code != "empty_body" {
						if len(e.Problems) != 1 || e.Problems[0].NodeID != tc.node || e.Problems[0].Severity != "error" || e.Problems[0].Message == "" {
							t.Errorf("%s: problems = %+v, want one naming node %q", req.method, e.Problems, tc.node)
						}
						if tc.node != "" && !strings.Contains(e.Error.Message, "“"+tc.node+"”") {
							t.Errorf("%s: the message does not name the node: %q", req.method, e.Error.Message)
						}
					}
				}
				if n := countRows(t, d, "flows"); n != 1 {
					t.Fatalf("%d flows after refused imports", n)
				}
				if after := owner.Do("GET", base+"/"+f.Flow.ID, nil).Must(t, 200).Body; string(after) != string(before) {
					t.Fatalf("a refused save changed the draft:\n%s\n%s", before, after)
				}
			})
		}
		// The wrong content type is refused before the body is read (CSRF E-3).
		owner.Header.Set("Content-Type", "text/plain")
		if code := owner.Do("POST", base, flowDoc).Must(t, 415).ErrorCode(); code != "unsupported_media_type" {
			t.Errorf("text/plain: %q", code)
		}
		owner.Header.Del("Content-Type")
		if res := owner.Do("POST", base, nil); res.Status != 415 {
			t.Errorf("no content type: %d %s", res.Status, res.Body)
		}
		// Unknown flows are 404 on every route.
		for _, req := range []struct{ method, path string }{
			{"GET", "/no-such-flow"}, {"PUT", "/no-such-flow/draft"}, {"POST", "/no-such-flow/publish"}, {"GET", "/no-such-flow/export"},
			{"GET", "/no-such-flow/versions"}, {"POST", "/no-such-flow/archive"}, {"POST", "/no-such-flow/restore"},
		} {
			var body any
			if req.method == "PUT" {
				body = flowDoc
			}
			if res := owner.Do(req.method, base+req.path, body); res.Status != 404 || res.ErrorCode() != "not_found" {
				t.Errorf("%s %s: %d %s", req.method, req.path, res.Status, res.Body)
			}
		}
		if n := countRows(t, d, "flows"); n != 1 {
			t.Fatalf("%d flows", n)
		}
	})
}

// tooManyNodes is a document with one node more than allowed.
func tooManyNodes() string {
	var b strings.Builder
	b.WriteString(`{"format": 1, "name": "Big", "start": "n0", "nodes": [`)
	for i := range flow.MaxNodes + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"id": "n` + strconv.Itoa(i) + `", "type": "end"}`)
	}
	b.WriteString("]}")
	return b.String()
}

// Promise P-03: another workspace's flow is a 404 on every route, with
// valid bodies too, and stays as it was.
func TestFlowTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		alice, bob := a.SignUp(t, "flow-alice"), a.SignUp(t, "flow-bob")
		wsA, wsB := alice.CreateWorkspace(t, "Alice"), bob.CreateWorkspace(t, "Bob")
		defineOrderStatus(t, a, wsB)
		var f struct{ Flow flowOut }
		bob.Do("POST", "/api/v1/workspaces/"+wsB+"/flows", flowDoc).Must(t, 201).JSON(t, &f)
		bob.Do("POST", "/api/v1/workspaces/"+wsB+"/flows/"+f.Flow.ID+"/publish", nil).Must(t, 200)
		before := bob.Do("GET", "/api/v1/workspaces/"+wsB+"/flows/"+f.Flow.ID, nil).Must(t, 200).Body

		for _, ws := range []string{wsA, wsB} {
			base := "/api/v1/workspaces/" + ws + "/flows/" + f.Flow.ID
			for _, req := range []struct {
				method, path string
				body         any
			}{
				{"GET", "", nil}, {"PUT", "/draft", strings.Replace(flowDoc, "Bye", "pwned", 1)}, {"POST", "/publish", nil},
				{"GET", "/export", nil}, {"GET", "/export?version=1", nil}, {"GET", "/versions", nil},
				{"POST", "/archive", nil}, {"POST", "/restore", nil},
			} {
				res := alice.Do(req.method, base+req.path, req.body)
				if res.Status != 404 {
					t.Errorf("%s %s as another workspace's owner: %d %s", req.method, req.path, res.Status, res.Body)
				}
				noSecret(t, req.method+" "+req.path, res)
			}
		}
		var list struct{ Flows []flowOut }
		alice.Do("GET", "/api/v1/workspaces/"+wsA+"/flows", nil).Must(t, 200).JSON(t, &list)
		if len(list.Flows) != 0 {
			t.Errorf("Alice lists Bob's flows: %+v", list)
		}
		if after := bob.Do("GET", "/api/v1/workspaces/"+wsB+"/flows/"+f.Flow.ID, nil).Must(t, 200).Body; string(after) != string(before) {
			t.Errorf("Bob's flow changed:\n%s\n%s", before, after)
		}
	})
}

// Promise P-07: after the trial, flows cannot be created, edited or
// published, but a bot can still be stopped (archived): nothing is held
// hostage.
func TestFlowsAfterTrial(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "flow-trial")
		ws := owner.CreateWorkspace(t, "Trial")
		base := "/api/v1/workspaces/" + ws + "/flows"
		var f struct{ Flow flowOut }
		owner.Do("POST", base, flowDoc).Must(t, 201).JSON(t, &f)

		a.Clock.Advance(15 * 24 * time.Hour)
		owner.Login(t)
		for _, req := range []struct{ method, path string }{
			{"POST", ""}, {"PUT", "/" + f.Flow.ID + "/draft"}, {"POST", "/" + f.Flow.ID + "/publish"}, {"POST", "/" + f.Flow.ID + "/restore"},
		} {
			if res := owner.Do(req.method, base+req.path, flowDoc); res.Status != 402 || res.ErrorCode() != "trial_expired" {
				t.Errorf("%s %s after the trial: %d %s", req.method, req.path, res.Status, res.Body)
			}
		}
		owner.Do("GET", base+"/"+f.Flow.ID+"/export", nil).Must(t, 200)
		var arch struct{ Flow flowOut }
		owner.Do("POST", base+"/"+f.Flow.ID+"/archive", nil).Must(t, 200).JSON(t, &arch)
		if arch.Flow.Status != "archived" {
			t.Errorf("archive after the trial: %+v", arch)
		}
	})
}
