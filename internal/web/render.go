package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/access"
	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/workspace"
)

//go:embed templates
var templateFS embed.FS

// pages holds one parsed template set per page: the shared layout and
// partials (templates/layout/) plus the page's own file, which defines
// "content".
type pages struct {
	sets map[string]*template.Template
}

func loadPages(a *assets) *pages {
	funcs := template.FuncMap{
		"asset": a.url,
		"date":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
		"datetime": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format("2 Jan 2006, 15:04 UTC")
		},
		"title": func(r workspace.Role) string {
			s := string(r)
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"roleHelp": roleHelp,
		"options": func(roles []workspace.Role, selected string) roleOptions {
			return roleOptions{Roles: roles, Selected: selected}
		},
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
		// island is the URL of an island's bundle, or of its placeholder
		// when the islands were not built (islands.go).
		"island": a.island,
	}
	layout, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout/*.html")
	if err != nil {
		panic("web: parse layout templates: " + err.Error())
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic("web: list templates: " + err.Error())
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, f := range names {
		set := template.Must(layout.Clone())
		if _, err := set.ParseFS(templateFS, f); err != nil {
			panic("web: parse " + f + ": " + err.Error())
		}
		p.sets[strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")] = set
	}
	return p
}

// roleOptions feeds the "role-options" partial: the roles to offer and
// the one selected.
type roleOptions struct {
	Roles    []workspace.Role
	Selected string
}

// roleHelp says in plain words what a role may do.
func roleHelp(r workspace.Role) string {
	switch r {
	case workspace.RoleOwner:
		return "can do everything, including managing owners"
	case workspace.RoleAdmin:
		return "manages the team, settings and API keys"
	case workspace.RoleAgent:
		return "answers conversations"
	case workspace.RoleViewer:
		return "can look, but not change anything"
	}
	return ""
}

// page is what every template gets. Page-specific values go in Data.
type page struct {
	Title string
	// User is the signed-in person, nil on public pages.
	User *account.User
	// Memberships lists the user's workspaces for the switcher.
	Memberships []workspace.Membership
	// WS is the workspace the page belongs to, with the user's role there.
	WS *workspace.Membership
	// Nav names the sidebar entry to highlight.
	Nav string
	// Trial describes the workspace's trial for the banner (nil: none).
	Trial *trialState
	// Form carries submitted values and errors back to a form.
	Form *form
	// Notice is a one-line confirmation shown above the content.
	Notice string
	// Availability is the signed-in agent's status for the chrome's
	// switch (nil: no switch; teams.go).
	Availability *availabilityView
	// Impersonator is the platform administrator acting as User (the
	// banner); Admin is the person really signed in when they are a
	// platform administrator (the console's link). Both nil otherwise.
	Impersonator *account.User
	Admin        *account.User
	Data         any
}

// Can reports whether the user's role in the page's workspace is at least
// role, to hide what they cannot do (the guard enforces it anyway).
func (p *page) Can(role workspace.Role) bool {
	return p.WS != nil && p.WS.Role.AtLeast(role)
}

// ReadOnly reports whether the page's workspace only accepts reads.
func (p *page) ReadOnly() bool { return p.Trial != nil && p.Trial.Expired }

// trialState is the banner's view of a trial.
type trialState struct {
	DaysLeft int
	EndsAt   time.Time
	Expired  bool
}

func trialOf(w *workspace.Workspace, now time.Time) *trialState {
	if w.Plan != workspace.PlanTrial || w.TrialEndsAt == nil {
		return nil
	}
	t := &trialState{EndsAt: *w.TrialEndsAt, Expired: w.ReadOnly(now)}
	if !t.Expired {
		t.DaysLeft = int((w.TrialEndsAt.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour)) // round up: "1 day left" until it ends
	}
	return t
}

// form is a submitted form: its values (never passwords) and its errors,
// by field, plus one error for the whole form.
type form struct {
	Values url.Values
	Errors map[string]string
	Error  string
}

func newForm(r *http.Request, keep ...string) *form {
	f := &form{Values: url.Values{}, Errors: map[string]string{}}
	for _, k := range keep {
		f.Values.Set(k, r.PostFormValue(k))
	}
	return f
}

// Get returns a kept value.
func (f *form) Get(name string) string {
	if f == nil {
		return ""
	}
	return f.Values.Get(name)
}

// Err returns the error for a field, or "".
func (f *form) Err(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// fail puts err on the form: on its field when the form has one by that
// name (fields), otherwise as the whole form's error. It returns the status
// to show the form again with. An internal error is not the person's to
// fix, so it comes back as an error for the error page instead.
func (f *form) fail(w http.ResponseWriter, err error, fields ...string) (int, error) {
	e := httpx.AsError(domainError(err))
	switch {
	case e.Status >= 500:
		return 0, e
	case e.Status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", fmt.Sprint(e.RetryAfter))
		f.Error = fmt.Sprintf("Too many attempts, try again in %d seconds.", max(e.RetryAfter, 1))
		return e.Status, nil
	}
	for _, name := range fields {
		if e.Field == name {
			f.Errors[name] = e.Message
			return formStatus(e), nil
		}
	}
	f.Error = e.Message
	return formStatus(e), nil
}

// formStatus is the status of a form shown again with an error. A wrong
// password is 401 for the API; a page showing it again is a 422 (401 would
// need a WWW-Authenticate challenge).
func formStatus(e *httpx.Error) int {
	if e.Status == http.StatusUnauthorized {
		return http.StatusUnprocessableEntity
	}
	return e.Status
}

// newPage starts a page for r: the user, their workspaces and, on a
// workspace route, the workspace with the user's role and its trial.
func (d *Dashboard) newPage(r *http.Request, title string) (*page, error) {
	p := &page{Title: title}
	if pr := access.PrincipalFrom(r.Context()); pr != nil && pr.User != nil {
		p.User = pr.User
		p.Impersonator = pr.Impersonator
		if who := pr.Real(); who.IsPlatformAdmin {
			p.Admin = who
		}
		ms, err := d.Workspaces.ListForUser(r.Context(), pr.User.ID)
		if err != nil {
			return nil, httpx.Internal(err)
		}
		p.Memberships = ms
	}
	if s := access.ScopeFrom(r.Context()); s != nil {
		p.WS = &workspace.Membership{Workspace: *s.Workspace, Role: s.Role}
		p.Trial = trialOf(s.Workspace, d.Now())
		p.Availability = d.availabilityOf(r, p)
	}
	return p, nil
}

// render writes the page. It renders into a buffer first, so a template
// error becomes a clean 500 page instead of half a page.
func (d *Dashboard) render(w http.ResponseWriter, status int, name string, p *page) error {
	set, ok := d.pages.sets[name]
	if !ok {
		return httpx.Internal(fmt.Errorf("web: no template %q", name))
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, "base", p); err != nil {
		return httpx.Internal(fmt.Errorf("web: render %s: %w", name, err))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry personal data and one-time secrets: never store them, and
	// keep them out of the back-forward cache after signing out.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// pushURL tells htmx which address to show after a form post answered with
// a page rather than a redirect (a one-time secret, say): the page's own
// address, so reloading it shows the page without the secret.
func pushURL(w http.ResponseWriter, path string) { w.Header().Set("HX-Push-Url", path) }

// redirect answers a form post with 303 See Other, so reloading the page
// that follows does not post again.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
