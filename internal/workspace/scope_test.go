package workspace_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// Promise P-28: a key is issued with scopes from the closed list only, and
// only those its role may carry; the scopes come back from authentication
// and the listing, and keys without scopes (all keys before migration
// 00023) have none.
func TestAPIKeyScopes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Scopes")
		calls := workspace.ScopeCallLogsWrite

		k, secret, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "Phone", agent, calls, calls)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(k.Scopes, workspace.ScopeList{calls}) {
			t.Errorf("created scopes = %v", k.Scopes)
		}
		plain, plainSecret, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "Zapier", agent)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Scopes != nil {
			t.Errorf("a key without scopes has %v", plain.Scopes)
		}
		if got := f.row(`SELECT scopes FROM api_keys WHERE id = ?`, k.ID)["scopes"]; got != `["call_logs:write"]` {
			t.Errorf("stored scopes = %q", got)
		}

		got, err := f.svc.AuthenticateAPIKey(f.ctx, secret)
		if err != nil || !got.Scopes.Has(calls) {
			t.Errorf("authenticated key scopes = %+v, %v", got, err)
		}
		got, err = f.svc.AuthenticateAPIKey(f.ctx, plainSecret)
		if err != nil || got.Scopes.Has(calls) || len(got.Scopes) != 0 {
			t.Errorf("authenticated plain key scopes = %+v, %v", got, err)
		}
		list, err := f.svc.APIKeys(f.ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		scopes := map[string]workspace.ScopeList{}
		for _, k := range list {
			scopes[k.Name] = k.Scopes
		}
		if diff := cmp.Diff(map[string]workspace.ScopeList{"Phone": {calls}, "Zapier": nil}, scopes); diff != "" {
			t.Errorf("listed scopes (-want +got):\n%s", diff)
		}
		for _, k := range list {
			b, _ := json.Marshal(k)
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"Phone": `["call_logs:write"]`, "Zapier": `[]`}[k.Name]
			if string(m["scopes"]) != want {
				t.Errorf("JSON scopes of %s = %s, want %s", k.Name, m["scopes"], want)
			}
		}

		// A key created before migration 00023 (the column default, [])
		// reads as having no scopes.
		if _, err := d.W.NewRaw(`UPDATE api_keys SET scopes = '[]' WHERE id = ?`, plain.ID).Exec(f.ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.AuthenticateAPIKey(f.ctx, plainSecret); err != nil || got.Scopes != nil {
			t.Errorf("default column: %+v, %v", got, err)
		}

		// Unknown scopes, and scopes the role may not carry, are refused
		// before anything is written.
		f.invalid("scopes", func() error {
			_, _, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "Bad", agent, "call_logs:read")
			return err
		})
		f.invalid("scopes", func() error {
			_, _, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "Viewer", viewer, calls)
			return err
		})
		f.invalid("scopes", func() error {
			_, _, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "Empty", agent, "")
			return err
		})
		if n := f.count(`SELECT count(*) FROM api_keys WHERE workspace_id = ?`, w.ID); n != 2 {
			t.Errorf("%d keys, want the 2 valid ones", n)
		}
	})
}

func TestParseScopes(t *testing.T) {
	got, err := workspace.ParseScopes([]string{" CALL_LOGS:WRITE ", "call_logs:write"}, workspace.RoleAdmin)
	if err != nil || !cmp.Equal(got, workspace.ScopeList{workspace.ScopeCallLogsWrite}) {
		t.Errorf("ParseScopes = %v, %v", got, err)
	}
	if got, err := workspace.ParseScopes(nil, workspace.RoleViewer); err != nil || got != nil {
		t.Errorf("ParseScopes(nil) = %v, %v", got, err)
	}
	for _, bad := range [][]string{{"admin"}, {"call_logs:*"}, {"call_logs:write", "x"}} {
		if _, err := workspace.ParseScopes(bad, workspace.RoleOwner); err == nil {
			t.Errorf("ParseScopes(%q) accepted it", bad)
		}
	}
	for _, s := range workspace.AllScopes() {
		if !s.Valid() || !s.MinRole().Valid() {
			t.Errorf("scope %q: valid %v, min role %q", s, s.Valid(), s.MinRole())
		}
	}
}
