package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var cannedRowID = regexp.MustCompile(`id="canned-([0-9a-f-]{36})"`)

// Issue 5: admins keep the workspace's canned responses in Settings: an
// empty state that says what to do, shortcuts shown as "/shortcut",
// refusals explained on the field with what was typed kept, search,
// editing and deleting; viewers only look; another workspace finds
// nothing.
func TestCannedResponsesPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Bopha")
		ws := owner.createWorkspace("Bopha's Bakery")
		viewer, vaddr := s.signUp(t, "Kosal")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		page := "/w/" + ws + "/settings/canned-responses"

		owner.get(page).want(t, http.StatusOK, "No canned responses yet", `aria-current="page">Canned responses`, `id="canned-shortcut"`).
			lacks(t, `role="search"`)
		loc := owner.post(page, url.Values{"shortcut": {"/Thanks"}, "title": {"Thank you"}, "body": {"Thank you {{contact.first_name|there}}!\nSee you soon."}}).redirectsTo(t, page)
		owner.get(loc).want(t, http.StatusOK, "Saved. Agents insert it by typing /thanks")
		owner.post(page, url.Values{"shortcut": {"hours"}, "title": {"Opening hours"}, "body": {"We bake from 6 to 14."}}).redirectsTo(t, page)
		p := owner.get(page).want(t, http.StatusOK, "<code class=\"canned-shortcut\">/thanks</code>", "/hours", "Thank you {{contact.first_name|there}}!", `role="search"`).
			lacks(t, "No canned responses yet")
		ids := cannedRowID.FindAllStringSubmatch(p.Body, -1)
		if len(ids) != 2 {
			t.Fatalf("rows: %v", ids)
		}
		hours, thanks := ids[0][1], ids[1][1] // by shortcut

		owner.post(page, url.Values{"shortcut": {"THANKS"}, "title": {"Again"}, "body": {"x"}}).
			want(t, http.StatusConflict, `id="canned-shortcut-error"`, "has this shortcut already", `value="THANKS"`, `value="Again"`)
		owner.post(page, url.Values{"shortcut": {"two words"}, "title": {"x"}, "body": {"x"}}).
			want(t, http.StatusUnprocessableEntity, `id="canned-shortcut-error"`, `aria-describedby="canned-shortcut-hint canned-shortcut-error"`)
		owner.post(page, url.Values{"shortcut": {"t3"}, "title": {"x"}, "body": {" "}}).want(t, http.StatusUnprocessableEntity, `id="canned-body-error"`)

		// Search by shortcut or title start.
		owner.get(page+"?q=open").want(t, http.StatusOK, "/hours").lacks(t, `>/thanks<`)
		owner.get(page+"?q=zz").want(t, http.StatusOK, "Nothing matches “zz”", "Show all")

		// Editing: a refusal comes back on that row's form, shown open.
		owner.post(page+"/"+hours, url.Values{"edit_shortcut": {"hours"}, "edit_title": {"Hours"}, "edit_body": {"From 5."}}).redirectsTo(t, page)
		owner.get(page).want(t, http.StatusOK, "From 5.").lacks(t, "We bake from 6")
		owner.post(page+"/"+hours, url.Values{"edit_shortcut": {"thanks"}, "edit_title": {"Hours"}, "edit_body": {"From 5."}}).
			want(t, http.StatusConflict, "has this shortcut already", `<details class="row-edit" open>`, `id="edit-shortcut-`+hours+`-error"`)
		owner.post(page+"/no-such-canned", url.Values{"edit_shortcut": {"x"}, "edit_title": {"x"}, "edit_body": {"x"}}).want(t, http.StatusNotFound)

		// Viewers see the list, not the forms (P-04).
		viewer.get(page).want(t, http.StatusOK, "/thanks", "Only owners and admins").lacks(t, `method="post" action="/w/`+ws+`/settings/canned-responses"`, "Delete")
		viewer.post(page, url.Values{"shortcut": {"mine"}, "title": {"x"}, "body": {"x"}}).want(t, http.StatusForbidden)
		viewer.post(page+"/"+thanks+"/delete", nil).want(t, http.StatusForbidden)

		// Another workspace finds nothing (P-03).
		stranger, _ := s.signUp(t, "Dara")
		other := stranger.createWorkspace("Dara's")
		stranger.post("/w/"+other+"/settings/canned-responses/"+thanks+"/delete", nil).want(t, http.StatusNotFound)
		stranger.post("/w/"+other+"/settings/canned-responses/"+thanks, url.Values{"edit_shortcut": {"x"}, "edit_title": {"x"}, "edit_body": {"x"}}).want(t, http.StatusNotFound)
		stranger.post(page+"/"+thanks+"/delete", nil).want(t, http.StatusNotFound)
		stranger.get("/w/"+other+"/settings/canned-responses").want(t, http.StatusOK, "No canned responses yet").lacks(t, `>/thanks<`)

		owner.post(page+"/"+thanks+"/delete", nil).redirectsTo(t, page)
		owner.post(page+"/"+hours+"/delete", nil).redirectsTo(t, page)
		owner.post(page+"/"+hours+"/delete", nil).want(t, http.StatusNotFound)
		owner.get(page).want(t, http.StatusOK, "No canned responses yet")
	})
}
