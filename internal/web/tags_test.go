package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var tagRowID = regexp.MustCompile(`id="tag-([0-9a-f-]{36})"`)

// Promise P-25: admins keep the workspace's tags in Settings: one per name
// whatever the letter case, with a colour drawn without inline styles,
// how many contacts have each, renaming and deleting; viewers only look.
func TestTagsPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Rotha")
		ws := owner.createWorkspace("Rotha's Rice")
		viewer, vaddr := s.signUp(t, "Sambo")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		page := "/w/" + ws + "/settings/tags"

		owner.get(page).want(t, http.StatusOK, "No tags yet", `aria-current="page">Tags`)
		owner.post(page, url.Values{"name": {"VIP"}, "color": {"#1a7f5a"}}).redirectsTo(t, page)
		owner.post(page, url.Values{"name": {"Wholesale"}, "color": {""}}).redirectsTo(t, page)
		p := owner.get(page).want(t, http.StatusOK, "VIP", "Wholesale", `fill="#1a7f5a"`, "tag-dot-default", "On no contact yet").lacks(t, "No tags yet")
		ids := tagRowID.FindAllStringSubmatch(p.Body, -1)
		if len(ids) != 2 {
			t.Fatalf("tag rows: %v", ids)
		}
		vip, wholesale := ids[0][1], ids[1][1]

		owner.post(page, url.Values{"name": {"vip"}}).want(t, http.StatusConflict, `id="tag-name-error"`, "exists already", `value="vip"`)
		owner.post(page, url.Values{"name": {" "}}).want(t, http.StatusUnprocessableEntity, `id="tag-name-error"`)
		owner.post(page, url.Values{"name": {"Red"}, "color": {"red"}}).want(t, http.StatusUnprocessableEntity, `id="tag-color-error"`)

		// Used on a contact, a tag says so; renaming keeps it on them.
		_, contactID := s.seedConversation(t, ws, "hi")
		if _, _, err := s.Contacts.TagContact(context.Background(), nil, ws, contactID, "VIP", false, contact.By{Kind: contact.BySystem}); err != nil {
			t.Fatal(err)
		}
		owner.get(page).want(t, http.StatusOK, "On 1 contact", "It comes off 1 contact.")
		owner.post(page+"/"+vip, url.Values{"edit_name": {"Gold"}, "edit_color": {"#be185d"}}).redirectsTo(t, page)
		owner.get(page).want(t, http.StatusOK, "Gold", `fill="#be185d"`).lacks(t, ">VIP<")
		owner.post(page+"/"+vip, url.Values{"edit_name": {"WHOLESALE"}, "edit_color": {""}}).
			want(t, http.StatusConflict, "exists already", `<details class="row-edit" open>`, `value="WHOLESALE"`)
		owner.post(page+"/no-such-tag", url.Values{"edit_name": {"x"}}).want(t, http.StatusNotFound)
		if tags, _ := s.Contacts.ContactTags(context.Background(), ws, contactID); len(tags) != 1 || tags[0].Name != "Gold" {
			t.Errorf("the contact's tags after the rename: %+v", tags)
		}

		// Viewers see the tags, not the forms (P-04).
		viewer.get(page).want(t, http.StatusOK, "Gold", "Only owners and admins").lacks(t, `action="/w/`+ws+`/settings/tags"`, "Delete")
		viewer.post(page, url.Values{"name": {"Mine"}}).want(t, http.StatusForbidden)
		viewer.post(page+"/"+vip+"/delete", nil).want(t, http.StatusForbidden)

		// Another workspace finds nothing (P-03).
		stranger, _ := s.signUp(t, "Tola")
		other := stranger.createWorkspace("Tola's")
		stranger.post("/w/"+other+"/settings/tags/"+vip+"/delete", nil).want(t, http.StatusNotFound)
		stranger.post("/w/"+other+"/settings/tags/"+vip, url.Values{"edit_name": {"pwned"}}).want(t, http.StatusNotFound)
		stranger.post(page+"/"+vip+"/delete", nil).want(t, http.StatusNotFound)

		owner.post(page+"/"+wholesale+"/delete", nil).redirectsTo(t, page)
		owner.post(page+"/"+vip+"/delete", nil).redirectsTo(t, page)
		owner.get(page).want(t, http.StatusOK, "No tags yet")
		if tags, _ := s.Contacts.ContactTags(context.Background(), ws, contactID); len(tags) != 0 {
			t.Errorf("the contact keeps deleted tags: %+v", tags)
		}
	})
}
