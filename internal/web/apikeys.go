package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/workspace"
)

// apiKeysView is the API keys page; Secret is a new key's secret, shown
// this once (only its hash is stored, promise P-08).
type apiKeysView struct {
	Keys      []apiKeyRow
	Grantable []workspace.Role
	// Scopes are the permissions the form offers, as checkboxes.
	Scopes  []scopeChoice
	Secret  string
	NewName string
}

// apiKeyRow is a key of the list with its permissions in plain words.
type apiKeyRow struct {
	workspace.APIKey
	Permissions []string
}

// scopeChoice is one permission checkbox of the form.
type scopeChoice struct {
	// ID is the checkbox's element id, "scope-call-logs-write": scope
	// names hold ":", which CSS selectors would have to escape.
	ID, Value, Label, Hint string
	Checked                bool
}

// scopeLabel says in plain words what a scope lets a key do, and for
// whom it is meant.
func scopeLabel(s workspace.Scope) (label, hint string) {
	switch s {
	case workspace.ScopeCallLogsWrite:
		return "Upload call logs from the mobile app",
			"Calls with a lead's phone number appear on the lead's activity; other calls and contact names are never kept. Needs the role Agent or Admin."
	}
	return string(s), ""
}

func (d *Dashboard) apiKeysPage(r *http.Request, f *form) (*page, *apiKeysView, error) {
	p, err := d.newPage(r, "API keys")
	if err != nil {
		return nil, nil, err
	}
	p.Nav = "api-keys"
	if f == nil {
		f = newForm(r)
		f.Values.Set("role", string(workspace.RoleAgent))
	}
	p.Form = f
	keys, err := d.Workspaces.APIKeys(r.Context(), p.WS.ID)
	if err != nil {
		return nil, nil, err
	}
	v := &apiKeysView{Keys: make([]apiKeyRow, len(keys))}
	for i, k := range keys {
		v.Keys[i].APIKey = k
		for _, s := range k.Scopes {
			label, _ := scopeLabel(s)
			v.Keys[i].Permissions = append(v.Keys[i].Permissions, label)
		}
	}
	for _, s := range workspace.AllScopes() {
		label, hint := scopeLabel(s)
		v.Scopes = append(v.Scopes, scopeChoice{ID: "scope-" + strings.NewReplacer(":", "-", "_", "-").Replace(string(s)), Value: string(s), Label: label, Hint: hint, Checked: slices.Contains(f.Values["scopes"], string(s))})
	}
	for _, role := range []workspace.Role{workspace.RoleAdmin, workspace.RoleAgent, workspace.RoleViewer} { // no key is ever owner
		if p.WS.Role.CanManage(role) {
			v.Grantable = append(v.Grantable, role)
		}
	}
	p.Data = v
	return p, v, nil
}

func (d *Dashboard) apiKeys(w http.ResponseWriter, r *http.Request) error {
	p, _, err := d.apiKeysPage(r, nil)
	if err != nil {
		return err
	}
	return d.render(w, http.StatusOK, "api_keys", p)
}

func apiKeysPath(wsID string) string { return "/w/" + wsID + "/settings/api-keys" }

// createAPIKey issues a key and shows its secret once. The page's address
// stays the list's, so reloading it never shows the secret again.
func (d *Dashboard) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	f := newForm(r, "name", "role")
	f.Values["scopes"] = r.PostForm["scopes"] // ticked boxes, kept when the form comes back
	role, err := workspace.ParseRole(r.PostFormValue("role"))
	var scopes workspace.ScopeList
	if err == nil {
		scopes, err = workspace.ParseScopes(r.PostForm["scopes"], role)
	}
	var key *workspace.APIKey
	var secret string
	if err == nil {
		key, secret, err = d.Workspaces.CreateAPIKey(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, r.PostFormValue("name"), role, scopes...)
	}
	status := http.StatusOK
	if err != nil {
		var ierr error
		if status, ierr = f.fail(w, err, "name", "role", "scopes"); ierr != nil {
			return ierr
		}
	} else {
		f = nil
	}
	p, v, lerr := d.apiKeysPage(r, f)
	if lerr != nil {
		return lerr
	}
	if err == nil {
		v.Secret, v.NewName = secret, key.Name
	}
	pushURL(w, apiKeysPath(s.Workspace.ID))
	return d.render(w, status, "api_keys", p)
}

func (d *Dashboard) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	s := access.ScopeFrom(r.Context())
	if err := d.Workspaces.RevokeAPIKey(r.Context(), access.Actor(r), s.Workspace.ID, r.PathValue("key_id")); err != nil {
		return domainError(err)
	}
	return redirect(w, r, apiKeysPath(s.Workspace.ID))
}
