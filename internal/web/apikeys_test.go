package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

// Promise P-28: the API keys form offers the call-log permission in plain
// words; a key created with it ticked carries the scope and the list says
// so; a viewer key cannot carry it (the form comes back with the error and
// the box still ticked), nor can an unknown scope be sent.
func TestAPIKeyPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Sokha")
		ws := owner.createWorkspace("Sokha's")
		keys := "/w/" + ws + "/settings/api-keys"
		const label = "Upload call logs from the mobile app"
		owner.get(keys).want(t, http.StatusOK, "Permissions", label, `name="scopes" value="call_logs:write"`).
			lacks(t, `value="call_logs:write" checked`)

		owner.post(keys, url.Values{"name": {"Viewer phone"}, "role": {"viewer"}, "scopes": {"call_logs:write"}}).
			want(t, http.StatusUnprocessableEntity, "needs a key with role agent or above", "key-scopes-error", `value="call_logs:write" checked`)
		owner.post(keys, url.Values{"name": {"Odd"}, "role": {"agent"}, "scopes": {"contacts:delete"}}).
			want(t, http.StatusUnprocessableEntity, "Choose scopes from: call_logs:write.")
		if ks, _ := s.Workspaces.APIKeys(context.Background(), ws); len(ks) != 0 {
			t.Fatalf("refused keys were created: %+v", ks)
		}

		owner.post(keys, url.Values{"name": {"Shop phone"}, "role": {"agent"}, "scopes": {"call_logs:write"}}).
			want(t, http.StatusOK, "Copy your new key").lacks(t, `value="call_logs:write" checked`)
		owner.post(keys, url.Values{"name": {"Online shop"}, "role": {"admin"}}).want(t, http.StatusOK, "Copy your new key")
		ks, err := s.Workspaces.APIKeys(context.Background(), ws)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]workspace.ScopeList{}
		for _, k := range ks {
			got[k.Name] = k.Scopes
		}
		want := map[string]workspace.ScopeList{"Shop phone": {workspace.ScopeCallLogsWrite}, "Online shop": nil}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("keys' scopes (-want +got):\n%s", diff)
		}
		owner.get(keys).want(t, http.StatusOK, "Agent · "+label)
	})
}
