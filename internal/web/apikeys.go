package web

import (
	"net/http"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/workspace"
)

// apiKeysView is the API keys page; Secret is a new key's secret, shown
// this once (only its hash is stored, promise P-08).
type apiKeysView struct {
	Keys      []workspace.APIKey
	Grantable []workspace.Role
	Secret    string
	NewName   string
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
	v := &apiKeysView{Keys: keys}
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
	role, err := workspace.ParseRole(r.PostFormValue("role"))
	var key *workspace.APIKey
	var secret string
	if err == nil {
		key, secret, err = d.Workspaces.CreateAPIKey(r.Context(), access.Actor(r), s.Role, s.Workspace.ID, r.PostFormValue("name"), role)
	}
	status := http.StatusOK
	if err != nil {
		var ierr error
		if status, ierr = f.fail(w, err, "name", "role"); ierr != nil {
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
