package metasim

import (
	"net/http"
	"net/url"
	"testing"
)

// GET /{user-id}/ids_for_pages (Meta's ID matching, security.md §1.3):
// with the app token and its proof it names the user's PSIDs on Pages of
// the app's business only, filtered by page and paged; other tokens,
// missing proofs and unknown users are refused as Graph refuses them.
func TestIDsForPages(t *testing.T) {
	f := newFixture(t)
	app := f.s.AppID() + "|" + f.s.AppSecret()
	customer := f.s.AddUser("Casey Customer")
	other := f.s.AddPage(f.user.ID, "Other shop")
	outside := f.s.AddPage(f.user.ID, "Not in the business")
	psidOther := f.s.AddPerson(other.ID, Person{FirstName: "Casey"})
	psidOutside := f.s.AddPerson(outside.ID, Person{FirstName: "Casey"})
	for _, l := range [][2]string{{f.page.ID, f.psid}, {other.ID, psidOther}, {outside.ID, psidOutside}} {
		if !f.s.LinkPerson(customer.ID, l[0], l[1]) {
			t.Fatalf("link %v", l)
		}
	}
	f.s.SetBusinessPage(f.page.ID, true)
	f.s.SetBusinessPage(other.ID, true)
	if f.s.LinkPerson("nobody", f.page.ID, f.psid) || f.s.SetBusinessPage("nopage", true) {
		t.Error("linking unknown objects reported success")
	}

	path := "/" + customer.ID + "/ids_for_pages"
	m := get(t, f, req{path: path, token: app})
	data := m["data"].([]any)
	got := map[string]string{}
	for _, d := range data {
		e := d.(map[string]any)
		got[e["page"].(map[string]any)["id"].(string)] = e["id"].(string)
	}
	want := map[string]string{f.page.ID: f.psid, other.ID: psidOther}
	if len(got) != len(want) || got[f.page.ID] != f.psid || got[other.ID] != psidOther {
		t.Errorf("ids %v, want %v (a page outside the business is never named)", got, want)
	}

	m = get(t, f, req{path: path, token: app, query: url.Values{"page": {other.ID}}})
	if d := m["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != psidOther {
		t.Errorf("page filter: %v", m)
	}

	m = get(t, f, req{path: path, token: app, query: url.Values{"limit": {"1"}}})
	paging, _ := m["paging"].(map[string]any)
	after, _ := paging["cursors"].(map[string]any)["after"].(string)
	if len(m["data"].([]any)) != 1 || after == "" {
		t.Fatalf("first page %v", m)
	}
	m = get(t, f, req{path: path, token: app, query: url.Values{"limit": {"1"}, "after": {after}}})
	if len(m["data"].([]any)) != 1 || m["paging"] != nil {
		t.Errorf("second page %v", m)
	}

	// Someone Meta knows no PSIDs of on the business's pages: empty.
	if m := get(t, f, req{path: "/" + f.user.ID + "/ids_for_pages", token: app}); len(m["data"].([]any)) != 0 {
		t.Errorf("owner's ids %v", m)
	}

	st, b := f.graph(t, req{path: path, token: f.page.Token})
	wantError(t, st, b, http.StatusBadRequest, 190, 0)
	st, b = f.graph(t, req{path: path, token: app, noProof: true})
	wantError(t, st, b, http.StatusBadRequest, 100, 0)
	st, b = f.graph(t, req{path: path, token: app, proof: "00"})
	wantError(t, st, b, http.StatusBadRequest, 100, 0)
	st, b = f.graph(t, req{path: "/999999/ids_for_pages", token: app})
	wantError(t, st, b, http.StatusBadRequest, 100, 33)
	st, b = f.graph(t, req{path: path})
	if st == http.StatusOK {
		t.Errorf("no token: %d %s", st, b)
	}
}

// get performs a Graph GET that must succeed and decodes its answer.
func get(t *testing.T, f *fixture, r req) map[string]any {
	t.Helper()
	st, b := f.graph(t, r)
	return wantOK(t, st, b)
}
