package flow_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

// secretValue is the value of the secret header of welcomeJSON: it must
// never be found in clear at rest.
const secretValue = "Bearer CANARY-flow-s3cret-7f3a"

// welcomeJSON is a flow with a secret header. It validates once the
// custom field order_status is defined.
const welcomeJSON = `{"format": 1, "name": "Welcome",
 "triggers": [{"id": "t1", "type": "keyword", "mode": "contains", "keywords": ["price", "តម្លៃ"]}, {"id": "t2", "type": "get_started"}],
 "start": "n1",
 "nodes": [
  {"id": "n1", "type": "message", "text": "Hi {{contact.first_name|there}}!", "next": "n2"},
  {"id": "n2", "type": "http", "method": "GET", "url": "https://api.example.com/orders",
   "headers": [{"name": "Authorization", "value": "` + secretValue + `", "secret": true}, {"name": "Accept", "value": "application/json"}],
   "map": [{"path": "status", "field": "order_status"}], "next": "n3", "failure_next": "n3"},
  {"id": "n3", "type": "message", "text": "Bye"}
 ]}`

var (
	editor = audit.Actor{UserID: "user-editor"}
	keyer  = audit.Actor{APIKeyID: "key-1"}
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	store    *flow.Store
	now      time.Time
}

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.contacts = contact.NewStore(d, e.kr, clock)
	e.store = flow.NewStore(d, e.kr, e.contacts, clock)
	return e
}

func (e *env) workspace(t *testing.T) string { return fixture.Workspace(t, e.d, e.kr) }

// defineStatus defines the field welcomeJSON maps to.
func (e *env) defineStatus(t *testing.T, ws string) {
	t.Helper()
	if _, err := e.contacts.DefineField(context.Background(), editor, ws, "order_status", contact.FieldSpec{Label: "Order status", Type: contact.FieldText}); err != nil {
		t.Fatal(err)
	}
}

// create stores a document and fails the test on error.
func (e *env) create(t *testing.T, ws, js string) flow.Flow {
	t.Helper()
	f, _, err := e.store.Create(context.Background(), ws, editor, parse(t, js))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return f
}

func parse(t *testing.T, js string) flow.Document {
	t.Helper()
	doc, err := flow.Parse([]byte(js))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// headers returns the headers of the document's node n2.
func headers(t *testing.T, doc flow.Document) []flow.Header {
	t.Helper()
	n, ok := doc.Find("n2")
	if !ok {
		t.Fatal("no node n2")
	}
	return n.Body.(*flow.HTTPNode).Headers
}

// flowActions lists the workspace's flow.* audit actions, oldest first.
func flowActions(t *testing.T, d *db.DB, ws string) []string {
	t.Helper()
	entries, err := audit.List(context.Background(), d, audit.Filter{WorkspaceID: ws, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		if strings.HasPrefix(entries[i].Action, "flow.") {
			out = append(out, entries[i].Action)
		}
	}
	return out
}

// problemFields lists "node_id field" of the error-level problems.
func problemFields(ps []flow.Problem) []string {
	var out []string
	for _, p := range ps {
		if p.Severity == flow.SeverityError {
			out = append(out, p.NodeID+" "+p.Field)
		}
	}
	return out
}

func TestCreateGetList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		doc := parse(t, welcomeJSON)

		f, problems, err := e.store.Create(ctx, ws, editor, doc)
		if err != nil {
			t.Fatal(err)
		}
		// The draft is stored although it does not validate yet.
		if diff := cmp.Diff([]string{"n2 map[0].field"}, problemFields(problems)); diff != "" {
			t.Errorf("problems (-want +got):\n%s\n%+v", diff, problems)
		}
		want := flow.Flow{
			ID: f.ID, WorkspaceID: ws, Name: "Welcome", Status: flow.StatusActive, Changed: true,
			Triggers: []flow.TriggerSummary{
				{ID: "t1", Type: flow.TriggerKeyword, Summary: "Message contains “price” or “តម្លៃ”"},
				{ID: "t2", Type: flow.TriggerGetStarted, Summary: "Get Started button"},
			},
			CreatedBy: "user:user-editor", CreatedAt: fixture.Epoch, UpdatedAt: fixture.Epoch, DraftUpdatedAt: fixture.Epoch,
		}
		if diff := cmp.Diff(want, f); diff != "" {
			t.Errorf("Create (-want +got):\n%s", diff)
		}
		got, draft, err := e.store.Get(ctx, ws, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(mustJSON(t, doc), mustJSON(t, draft)); diff != "" {
			t.Errorf("the draft read back differs (-stored +read):\n%s", diff)
		}
		if headers(t, draft)[0].Value != secretValue {
			t.Error("Get does not return the secret value to the server")
		}

		e.now = e.now.Add(time.Minute)
		other := e.create(t, ws, strings.Replace(welcomeJSON, `"Welcome"`, `"  Second  "`, 1))
		if other.Name != "Second" {
			t.Errorf("name not trimmed: %q", other.Name)
		}
		if _, err := e.store.Archive(ctx, ws, other.ID, editor); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			status flow.Status
			want   []string
		}{{"", []string{f.ID, other.ID}}, {flow.StatusActive, []string{f.ID}}, {flow.StatusArchived, []string{other.ID}}} {
			list, err := e.store.List(ctx, ws, flow.ListOptions{Status: tc.status})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, l := range list {
				ids = append(ids, l.ID)
			}
			if diff := cmp.Diff(tc.want, ids); diff != "" {
				t.Errorf("List %q (-want +got):\n%s", tc.status, diff)
			}
		}
		// Another workspace sees none of them.
		if list, err := e.store.List(ctx, e.workspace(t), flow.ListOptions{}); err != nil || len(list) != 0 {
			t.Errorf("another workspace lists %v, %v", list, err)
		}
		if diff := cmp.Diff([]string{flow.ActionCreate, flow.ActionCreate, flow.ActionArchive}, flowActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestCreateRefusesBadNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		for name, doc := range map[string]string{
			"empty":   "",
			"blank":   "   ",
			"long":    strings.Repeat("ន", flow.MaxNameLen+1),
			"control": "Wel\x07come",
		} {
			t.Run(name, func(t *testing.T) {
				d := parse(t, welcomeJSON)
				d.Name = doc
				_, _, err := e.store.Create(context.Background(), ws, editor, d)
				if v, ok := validate.As(err); !ok || v.Field != "name" {
					t.Fatalf("err = %v, want a *validate.Error on name", err)
				}
			})
		}
		if n := count(t, d, "flows"); n != 0 {
			t.Fatalf("%d flows after refused creates", n)
		}
		// The longest name is fine.
		ok := parse(t, welcomeJSON)
		ok.Name = strings.Repeat("ន", flow.MaxNameLen)
		if _, _, err := e.store.Create(context.Background(), ws, editor, ok); err != nil {
			t.Fatal(err)
		}
	})
}

// A workspace keeps at most MaxFlows flows, archived ones included.
func TestCreateIsBounded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		f := e.create(t, ws, welcomeJSON)
		// Copy the first row MaxFlows-5 times in one statement: room for 4.
		if _, err := d.W.NewRaw(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO flows (id, workspace_id, name, status, draft, draft_updated_at, created_at, updated_at)
			SELECT f.id || '-' || n.i, f.workspace_id, f.name, 'archived', f.draft, f.draft_updated_at, f.created_at, f.updated_at
			FROM flows f, n WHERE f.id = ?`, flow.MaxFlows-5, f.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Eight creations at once: exactly four fit, whatever the timing
		// (on PostgreSQL they take turns on the workspace row).
		var wg sync.WaitGroup
		var created, refused atomic.Int32
		for range 8 {
			wg.Go(func() {
				_, _, err := e.store.Create(context.Background(), ws, editor, parse(t, welcomeJSON))
				switch {
				case err == nil:
					created.Add(1)
				case errors.Is(err, flow.ErrTooManyFlows):
					refused.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if created.Load() != 4 || refused.Load() != 4 {
			t.Fatalf("concurrent creations near the limit: %d created, %d refused; want 4 and 4", created.Load(), refused.Load())
		}
		if _, _, err := e.store.Create(context.Background(), ws, editor, parse(t, welcomeJSON)); !errors.Is(err, flow.ErrTooManyFlows) || !errors.Is(err, db.ErrConflict) {
			t.Fatalf("create beyond the limit: %v", err)
		}
		if n := count(t, d, "flows"); n != flow.MaxFlows {
			t.Fatalf("%d flows, want %d", n, flow.MaxFlows)
		}
		// Another workspace is not affected.
		e.create(t, e.workspace(t), welcomeJSON)
	})
}

// Secret header values are sealed at rest (security.md §3.L L-5), the
// draft and every version bound to their own row.
func TestDocumentsAreSealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		e.defineStatus(t, ws)
		ctx := context.Background()
		a, b := e.create(t, ws, welcomeJSON), e.create(t, ws, welcomeJSON)
		if _, _, _, err := e.store.Publish(ctx, ws, a.ID, editor); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{`SELECT draft FROM flows`, `SELECT document FROM flow_versions`} {
			var blobs [][]byte
			if err := d.R.NewRaw(q).Scan(ctx, &blobs); err != nil {
				t.Fatal(err)
			}
			if len(blobs) == 0 {
				t.Fatalf("%s: no rows", q)
			}
			for _, b := range blobs {
				if bytes.Contains(b, []byte("CANARY")) || bytes.Contains(b, []byte("api.example.com")) {
					t.Fatalf("%s: a document is stored in clear", q)
				}
			}
		}
		// A's draft copied over B's does not open: it is bound to A's row.
		if _, err := d.W.NewRaw(`UPDATE flows SET draft = (SELECT draft FROM flows WHERE id = ?) WHERE id = ?`, a.ID, b.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.store.Get(ctx, ws, b.ID); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("B with A's draft: %v, want ErrDecrypt", err)
		}
		// A draft copied into a version does not open either.
		if _, err := d.W.NewRaw(`UPDATE flow_versions SET document = (SELECT draft FROM flows WHERE id = ?)`, a.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := flow.NewStore(d, e.kr, e.contacts, time.Now).Version(ctx, nil, ws, a.ID, 1); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("a draft as a version: %v, want ErrDecrypt", err)
		}
	})
}

// Saving a draft that leaves a secret header empty (as the API and
// exports show it) keeps the stored value, unless the node now calls
// another host.
func TestSaveDraftKeepsSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		e.defineStatus(t, ws)
		ctx := context.Background()
		f := e.create(t, ws, welcomeJSON)
		_, draft, err := e.store.Get(ctx, ws, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		redacted := draft.Redact()
		redacted.Name = "Welcome 2"
		e.now = e.now.Add(time.Hour)
		saved, problems, err := e.store.SaveDraft(ctx, ws, f.ID, keyer, redacted)
		if err != nil {
			t.Fatal(err)
		}
		if len(problemFields(problems)) != 0 || saved.Name != "Welcome 2" || !saved.DraftUpdatedAt.Equal(e.now) || !saved.CreatedAt.Equal(fixture.Epoch) {
			t.Errorf("SaveDraft = %+v, %+v", saved, problems)
		}
		if headers(t, redacted)[0].Value != "" {
			t.Fatal("SaveDraft changed the caller's document")
		}
		_, got, err := e.store.Get(ctx, ws, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h := headers(t, got); h[0].Value != secretValue || h[1].Value != "application/json" {
			t.Errorf("after saving the redacted draft: %+v", h)
		}

		// Renamed header (letter case only): still the same header.
		renamed := got.Redact()
		renamed.Nodes[1].Body.(*flow.HTTPNode).Headers[0].Name = "authorization"
		if _, _, err := e.store.SaveDraft(ctx, ws, f.ID, editor, renamed); err != nil {
			t.Fatal(err)
		}
		if _, got, _ = e.store.Get(ctx, ws, f.ID); headers(t, got)[0].Value != secretValue {
			t.Errorf("a header renamed in case lost its value: %+v", headers(t, got))
		}

		// Pointing the node at another host drops the secret: it must be
		// entered again, and publishing says so.
		moved := got.Redact()
		moved.Nodes[1].Body.(*flow.HTTPNode).URL = "https://attacker.example/collect"
		_, problems, err = e.store.SaveDraft(ctx, ws, f.ID, editor, moved)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"n2 headers[0].value"}, problemFields(problems)); diff != "" {
			t.Errorf("problems after moving the node (-want +got):\n%s", diff)
		}
		if _, got, _ = e.store.Get(ctx, ws, f.ID); headers(t, got)[0].Value != "" {
			t.Error("a secret followed its node to another host")
		}
		// …and moving it back does not bring the secret back.
		back := got
		back.Nodes[1].Body.(*flow.HTTPNode).URL = "https://api.example.com/orders"
		if _, _, err := e.store.SaveDraft(ctx, ws, f.ID, editor, back); err != nil {
			t.Fatal(err)
		}
		if _, got, _ = e.store.Get(ctx, ws, f.ID); headers(t, got)[0].Value != "" {
			t.Error("a dropped secret came back")
		}
		// A new value replaces the old one.
		fresh := got
		fresh.Nodes[1].Body.(*flow.HTTPNode).Headers[0].Value = "Bearer new"
		if _, _, err := e.store.SaveDraft(ctx, ws, f.ID, editor, fresh); err != nil {
			t.Fatal(err)
		}
		if _, got, _ = e.store.Get(ctx, ws, f.ID); headers(t, got)[0].Value != "Bearer new" {
			t.Errorf("new secret: %+v", headers(t, got))
		}
		want := []string{flow.ActionCreate, flow.ActionSaveDraft, flow.ActionSaveDraft, flow.ActionSaveDraft, flow.ActionSaveDraft, flow.ActionSaveDraft}
		if diff := cmp.Diff(want, flowActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestPublish(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		f := e.create(t, ws, welcomeJSON)

		// Invalid: the field does not exist yet. Nothing changes.
		_, v, problems, err := e.store.Publish(ctx, ws, f.ID, editor)
		var inv *flow.InvalidError
		if !errors.Is(err, flow.ErrInvalid) || !errors.As(err, &inv) || v != 0 {
			t.Fatalf("publishing an invalid draft: %d, %v", v, err)
		}
		if diff := cmp.Diff([]string{"n2 map[0].field"}, problemFields(problems)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
		if !cmp.Equal(inv.Problems, problems) {
			t.Error("the error and the result list different problems")
		}
		if n := count(t, d, "flow_versions"); n != 0 {
			t.Fatalf("%d versions after a refused publish", n)
		}
		if rev, err := e.store.Revision(ctx, nil, ws); err != nil || rev != 0 {
			t.Fatalf("revision after a refused publish = %d, %v", rev, err)
		}
		if got, _, _ := e.store.Get(ctx, ws, f.ID); got.PublishedVersion != 0 || !got.Changed {
			t.Fatalf("after a refused publish: %+v", got)
		}

		// Valid once the field exists.
		e.defineStatus(t, ws)
		e.now = e.now.Add(time.Minute)
		got, v, problems, err := e.store.Publish(ctx, ws, f.ID, editor)
		if err != nil || v != 1 || got.PublishedVersion != 1 || !got.PublishedAt.Equal(e.now) || got.Changed || len(problemFields(problems)) != 0 {
			t.Fatalf("Publish = %+v, %d, %v, %v", got, v, problems, err)
		}
		if rev, _ := e.store.Revision(ctx, nil, ws); rev != 1 {
			t.Errorf("revision = %d, want 1", rev)
		}
		v1 := parse(t, welcomeJSON)

		// Edit and publish again: version 2; version 1 stays as it was.
		edited := parse(t, strings.Replace(welcomeJSON, `"Bye"`, `"Goodbye"`, 1))
		e.now = e.now.Add(time.Minute)
		if saved, _, err := e.store.SaveDraft(ctx, ws, f.ID, editor, edited); err != nil || !saved.Changed || saved.PublishedVersion != 1 {
			t.Fatalf("SaveDraft after publish = %+v, %v", saved, err)
		}
		// The live version is still 1 until published.
		pub, rev, err := e.store.Published(ctx, nil, ws)
		if err != nil || rev != 1 || len(pub) != 1 || pub[0].Version != 1 || pub[0].FlowID != f.ID || pub[0].Name != "Welcome" {
			t.Fatalf("Published = %+v, %d, %v", pub, rev, err)
		}
		if _, v, _, err = e.store.Publish(ctx, ws, f.ID, keyer); err != nil || v != 2 {
			t.Fatalf("second publish: %d, %v", v, err)
		}
		for n, want := range map[int]flow.Document{1: v1, 2: edited} {
			doc, err := e.store.Version(ctx, nil, ws, f.ID, n)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(mustJSON(t, want), mustJSON(t, doc)); diff != "" {
				t.Errorf("version %d (-want +got):\n%s", n, diff)
			}
			// A fresh store (another replica, or after a restart) reads the same.
			doc2, err := flow.NewStore(d, e.kr, e.contacts, time.Now).Version(ctx, d.R, ws, f.ID, n)
			if err != nil || !bytes.Equal(mustJSON(t, doc), mustJSON(t, doc2)) {
				t.Errorf("version %d from another store: %v", n, err)
			}
		}
		if _, err := e.store.Version(ctx, nil, ws, f.ID, 3); !errors.Is(err, flow.ErrNoSuchVersion) || !errors.Is(err, db.ErrNotFound) {
			t.Errorf("version 3: %v", err)
		}
		versions, err := e.store.Versions(ctx, ws, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantVersions := []flow.VersionInfo{
			{Version: 2, PublishedAt: e.now, PublishedBy: "api_key:key-1"},
			{Version: 1, PublishedAt: e.now.Add(-time.Minute), PublishedBy: "user:user-editor"},
		}
		if diff := cmp.Diff(wantVersions, versions); diff != "" {
			t.Errorf("Versions (-want +got):\n%s", diff)
		}
		pub, rev, err = e.store.Published(ctx, nil, ws)
		if err != nil || rev != 2 || len(pub) != 1 || pub[0].Version != 2 {
			t.Fatalf("Published after v2 = %+v, %d, %v", pub, rev, err)
		}
		// Published reads inside a transaction too (the runner's).
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			pub, rev, err := e.store.Published(ctx, tx, ws)
			if err != nil || rev != 2 || len(pub) != 1 {
				t.Errorf("Published in a transaction = %+v, %d, %v", pub, rev, err)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		// Archived: not live, cannot be edited or published; the revision
		// moves so runners notice. Restored: live again.
		if a, err := e.store.Archive(ctx, ws, f.ID, editor); err != nil || a.Status != flow.StatusArchived || !a.ArchivedAt.Equal(e.now) {
			t.Fatalf("Archive = %+v, %v", a, err)
		}
		if _, err := e.store.Archive(ctx, ws, f.ID, editor); err != nil {
			t.Fatalf("archiving twice: %v", err)
		}
		if pub, rev, _ = e.store.Published(ctx, nil, ws); len(pub) != 0 || rev != 3 {
			t.Fatalf("Published while archived = %+v, %d", pub, rev)
		}
		if _, _, _, err := e.store.Publish(ctx, ws, f.ID, editor); !errors.Is(err, flow.ErrArchived) {
			t.Errorf("publishing an archived flow: %v", err)
		}
		if _, _, err := e.store.SaveDraft(ctx, ws, f.ID, editor, edited); !errors.Is(err, flow.ErrArchived) {
			t.Errorf("editing an archived flow: %v", err)
		}
		if n := count(t, d, "flow_versions"); n != 2 {
			t.Errorf("%d versions, want 2", n)
		}
		if r, err := e.store.Restore(ctx, ws, f.ID, editor); err != nil || r.Status != flow.StatusActive || !r.ArchivedAt.IsZero() || r.PublishedVersion != 2 {
			t.Fatalf("Restore = %+v, %v", r, err)
		}
		if pub, rev, _ = e.store.Published(ctx, nil, ws); len(pub) != 1 || rev != 4 {
			t.Fatalf("Published after restore = %+v, %d", pub, rev)
		}
		want := []string{flow.ActionCreate, flow.ActionPublish, flow.ActionSaveDraft, flow.ActionPublish, flow.ActionArchive, flow.ActionRestore}
		if diff := cmp.Diff(want, flowActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

// Publishing checks references against the workspace: fields (archived
// ones do not count), goto_flow targets (archived flows do not count) and
// tags, whose letter case does not matter.
func TestPublishChecksReferences(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		target := e.create(t, ws, welcomeJSON)
		if _, err := e.contacts.CreateTag(ctx, editor, ws, "VIP", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.contacts.DefineField(ctx, editor, ws, "city", contact.FieldSpec{Label: "City", Type: contact.FieldText}); err != nil {
			t.Fatal(err)
		}
		js := `{"format": 1, "name": "Refs", "start": "a", "nodes": [
		  {"id": "a", "type": "condition", "branches": [{"rules": [{"subject": "tag", "key": "vip", "op": "exists"}], "next": "b"}], "else": "b"},
		  {"id": "b", "type": "action", "actions": [{"type": "remove_tag", "tag": "Vip"}, {"type": "set_field", "field": "city", "value": "PP"}], "next": "c"},
		  {"id": "c", "type": "goto_flow", "flow": "` + target.ID + `"}]}`
		f := e.create(t, ws, js)
		_, _, problems, err := e.store.Publish(ctx, ws, f.ID, editor)
		if err != nil || len(problems) != 0 {
			t.Fatalf("Publish = %+v, %v", problems, err)
		}
		// Archive the field and the target: both are now unknown.
		if err := e.contacts.ArchiveField(ctx, editor, ws, "city"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Archive(ctx, ws, target.ID, editor); err != nil {
			t.Fatal(err)
		}
		_, _, problems, err = e.store.Publish(ctx, ws, f.ID, editor)
		if !errors.Is(err, flow.ErrInvalid) {
			t.Fatalf("Publish with an archived field and target: %v", err)
		}
		if diff := cmp.Diff([]string{"b actions[1].field", "c flow"}, problemFields(problems)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
		// The same references from another workspace: none of them exist there.
		ws2 := e.workspace(t)
		problems, err = e.store.Problems(ctx, ws2, "", parse(t, js))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"b actions[1].field", "c flow"}, problemFields(problems)); diff != "" {
			t.Errorf("problems in another workspace (-want +got):\n%s", diff)
		}
		var warned int
		for _, p := range problems {
			if p.Severity == flow.SeverityWarning && strings.Contains(p.Message, "no contact has yet") {
				warned++
			}
		}
		if warned != 2 {
			t.Errorf("tags unknown in another workspace: %d warnings, want 2: %+v", warned, problems)
		}
	})
}

// Concurrent publishes of one flow get consecutive version numbers, none
// lost and none twice, on both engines.
func TestConcurrentPublish(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		e.defineStatus(t, ws)
		f := e.create(t, ws, welcomeJSON)
		const n = 8
		results := make(chan int, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				_, v, _, err := e.store.Publish(context.Background(), ws, f.ID, editor)
				errs <- err
				results <- v
			}()
		}
		seen := map[int]bool{}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("publish: %v", err)
			}
			seen[<-results] = true
		}
		for v := 1; v <= n; v++ {
			if !seen[v] {
				t.Errorf("no publish got version %d: %v", v, seen)
			}
		}
		versions, err := e.store.Versions(context.Background(), ws, f.ID)
		if err != nil || len(versions) != n || versions[0].Version != n {
			t.Errorf("Versions = %+v, %v", versions, err)
		}
		if rev, _ := e.store.Revision(context.Background(), nil, ws); rev != n {
			t.Errorf("revision = %d, want %d", rev, n)
		}
		if got, _, _ := e.store.Get(context.Background(), ws, f.ID); got.PublishedVersion != n {
			t.Errorf("published version = %d, want %d", got.PublishedVersion, n)
		}
	})
}

// Promise P-03: no method returns or changes another workspace's flow, and
// a version cached for one workspace is never served to another.
func TestStoreTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		a, b := e.workspace(t), e.workspace(t)
		e.defineStatus(t, a)
		e.defineStatus(t, b)
		ctx := context.Background()
		f := e.create(t, a, welcomeJSON)
		if _, _, _, err := e.store.Publish(ctx, a, f.ID, editor); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Version(ctx, nil, a, f.ID, 1); err != nil { // now cached
			t.Fatal(err)
		}
		doc := parse(t, welcomeJSON)
		for name, call := range map[string]func() error{
			"Get":       func() error { _, _, err := e.store.Get(ctx, b, f.ID); return err },
			"SaveDraft": func() error { _, _, err := e.store.SaveDraft(ctx, b, f.ID, editor, doc); return err },
			"Publish":   func() error { _, _, _, err := e.store.Publish(ctx, b, f.ID, editor); return err },
			"Archive":   func() error { _, err := e.store.Archive(ctx, b, f.ID, editor); return err },
			"Restore":   func() error { _, err := e.store.Restore(ctx, b, f.ID, editor); return err },
			"Versions":  func() error { _, err := e.store.Versions(ctx, b, f.ID); return err },
			"Version":   func() error { _, err := e.store.Version(ctx, nil, b, f.ID, 1); return err },
			"unknown":   func() error { _, _, err := e.store.Get(ctx, a, "no-such-flow"); return err },
		} {
			if err := call(); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s across workspaces: %v, want not found", name, err)
			}
		}
		if pub, rev, err := e.store.Published(ctx, nil, b); err != nil || len(pub) != 0 || rev != 0 {
			t.Errorf("B's published flows = %+v, %d, %v", pub, rev, err)
		}
		got, draft, err := e.store.Get(ctx, a, f.ID)
		if err != nil || got.Status != flow.StatusActive || got.PublishedVersion != 1 || got.Changed || headers(t, draft)[0].Value != secretValue {
			t.Errorf("A's flow after B's attempts: %+v, %v", got, err)
		}
		if diff := cmp.Diff([]string(nil), flowActions(t, d, b)); diff != "" {
			t.Errorf("B's audit log: %s", diff)
		}
	})
}

func mustJSON(t *testing.T, d flow.Document) []byte {
	t.Helper()
	b, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(`SELECT count(*) FROM `+table).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Names gives the names of the flows asked for, archived ones too, in
// their own workspace only.
func TestNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		a, b := e.workspace(t), e.workspace(t)
		ctx := context.Background()
		one := e.create(t, a, `{"format":1,"name":"Welcome","start":"x","nodes":[{"id":"x","type":"end"}]}`)
		two := e.create(t, a, `{"format":1,"name":"Old offers","start":"x","nodes":[{"id":"x","type":"end"}]}`)
		other := e.create(t, b, `{"format":1,"name":"B's","start":"x","nodes":[{"id":"x","type":"end"}]}`)
		if _, err := e.store.Archive(ctx, a, two.ID, editor); err != nil {
			t.Fatal(err)
		}
		got, err := e.store.Names(ctx, a, []string{one.ID, two.ID, other.ID, "no-such-flow"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{one.ID: "Welcome", two.ID: "Old offers"}, got); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
		if got, err := e.store.Names(ctx, a, nil); err != nil || len(got) != 0 {
			t.Errorf("no IDs: %v %v", got, err)
		}
	})
}
