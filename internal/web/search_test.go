package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// seedPerson seeds a conversation whose first message is text, from a
// contact named first last, and returns the conversation and contact IDs.
func (s *site) seedPerson(t *testing.T, ws, text, first, last string) (string, string) {
	t.Helper()
	conv, id := s.seedConversation(t, ws, text)
	if err := s.Contacts.SetProfile(context.Background(), ws, id, channel.Profile{FirstName: first, LastName: last}, contact.ProfileFetched); err != nil {
		t.Fatal(err)
	}
	return conv, id
}

// indexAll runs the search indexer until it has caught up, past its lag.
func (s *site) indexAll(t *testing.T) {
	t.Helper()
	s.Clock.Advance(time.Minute)
	for range 100 {
		n, err := s.Search.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the indexer never caught up")
}

func searchURL(ws, q string) string { return "/w/" + ws + "/search?" + url.Values{"q": {q}}.Encode() }

// Issue 5 item 5 in the dashboard: every workspace page has the search
// box; the results page lists contacts (to their profile) and messages
// (to their conversation, the match marked) of this workspace only, says
// so when nothing matches, explains short queries, refuses long ones.
func TestSearchPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Sreyneang")
		ws := owner.createWorkspace("Sreyneang's Shop")
		viewer, vaddr := s.signUp(t, "Vibol")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		conv, id := s.seedPerson(t, ws, "ខ្ញុំចង់ទិញអាវពណ៌ខៀវ", "Sokha", "Chan")
		other, _ := s.signUp(t, "Other")
		ws2 := other.createWorkspace("Other Shop")
		conv2, id2 := s.seedPerson(t, ws2, "ខ្ញុំចង់ទិញអាវពណ៌ខៀវ", "Sokha", "Chan")
		s.indexAll(t)
		foreign := []string{ws2, conv2, id2}

		viewer.get("/w/"+ws).want(t, http.StatusOK, `action="/w/`+ws+`/search"`, "data-search-box")
		viewer.get("/w/"+ws+"/search").want(t, http.StatusOK, `id="search-page-q"`).lacks(t, "No contact or message matches")

		viewer.get(searchURL(ws, "អាវ")).want(t, http.StatusOK, "Messages", `href="/w/`+ws+`/conversations/`+conv+`"`,
			"ខ្ញុំចង់ទិញ<mark>អាវ</mark>ពណ៌ខៀវ", "Sokha Chan").lacks(t, foreign...)
		viewer.get(searchURL(ws, "sokha")).want(t, http.StatusOK, "Contacts", `href="/w/`+ws+`/contacts/`+id+`"`, "Sokha Chan").
			lacks(t, foreign...)
		viewer.get(searchURL(ws, "no such words")).want(t, http.StatusOK, "No contact or message matches",
			"Try part of a name, a phone number or a word from the message").lacks(t, id)
		viewer.get(searchURL(ws, "so")).want(t, http.StatusOK, "find words that start with them")
		viewer.get(searchURL(ws, strings.Repeat("a", 101))).want(t, http.StatusUnprocessableEntity, "too long")
		// Another workspace's search is not there for this member.
		viewer.get(searchURL(ws2, "sokha")).want(t, http.StatusNotFound).lacks(t, foreign...)
		other.get(searchURL(ws2, "sokha")).want(t, http.StatusOK, id2).lacks(t, id, conv)
	})
}

// The merge picker finds the other contact through the search index, so
// by phone number too (a name scan cannot); a contact the indexer has not
// reached yet is still found by the name scan.
func TestMergePickerUsesSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, addr := s.signUp(t, "Kanha")
		ws := owner.createWorkspace("Kanha's Kitchen")
		_, keep := s.seedPerson(t, ws, "hello", "Dara", "Sok")
		_, other := s.seedPerson(t, ws, "hi again", "Dara", "Sam")
		ctx := context.Background()
		if _, err := s.Contacts.DefineField(ctx, audit.Actor{UserID: s.userID(t, addr)}, ws, "phone", contact.FieldSpec{Label: "Phone", Type: contact.FieldPhone}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Contacts.SetField(ctx, nil, ws, other, "phone", "+855 12 345 678", contact.SetOptions{By: contact.By{Kind: contact.BySystem}}); err != nil {
			t.Fatal(err)
		}
		s.indexAll(t)
		_, late := s.seedPerson(t, ws, "new here", "Dara", "Late") // not indexed

		picker := "/w/" + ws + "/contacts/" + keep + "/merge?"
		owner.get(picker+url.Values{"q": {"+855 12 345"}}.Encode()).want(t, http.StatusOK, `?with=`+other+`"`).lacks(t, `?with=`+keep+`"`)
		owner.get(picker+url.Values{"q": {"sam"}}.Encode()).want(t, http.StatusOK, `?with=`+other+`"`)
		owner.get(picker+url.Values{"q": {"late"}}.Encode()).want(t, http.StatusOK, `?with=`+late+`"`)
	})
}
