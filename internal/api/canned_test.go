package api_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type cannedOut struct {
	ID, Shortcut, Title, Body string
}

type cannedOne struct {
	Canned cannedOut `json:"canned_response"`
}

type cannedList struct {
	Canned []cannedOut `json:"canned_responses"`
}

func shortcutsOf(cs []cannedOut) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Shortcut)
	}
	return out
}

// Issue 5: admins keep canned responses with unique shortcuts; everyone
// finds them by what follows "/"; bad input is refused naming the field
// and stores nothing; agents and viewers cannot change them.
func TestCannedResponsesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "canned")
		ws := owner.CreateWorkspace(t, "Canned")
		agent, viewer := a.SignUp(t, "canned-agent"), a.SignUp(t, "canned-viewer")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws + "/canned-responses"

		var thanks, hours cannedOne
		owner.Do("POST", base, map[string]string{"shortcut": "/Thanks", "title": "Thank you", "body": "Thanks {{contact.first_name|friend}}!"}).
			Must(t, 201).JSON(t, &thanks)
		if thanks.Canned.Shortcut != "thanks" || thanks.Canned.Title != "Thank you" || thanks.Canned.ID == "" {
			t.Fatalf("created %+v", thanks.Canned)
		}
		owner.Do("POST", base, map[string]string{"shortcut": "hours", "title": "Opening hours", "body": "We open at 9."}).Must(t, 201).JSON(t, &hours)
		owner.Do("POST", base, map[string]string{"shortcut": "price", "title": "តម្លៃ", "body": "Our prices…"}).Must(t, 201)

		for _, tc := range []struct {
			name        string
			body        any
			status      int
			code, field string
		}{
			{"taken", map[string]string{"shortcut": "THANKS", "title": "Again", "body": "x"}, 409, "shortcut_taken", "shortcut"},
			{"bad shortcut", map[string]string{"shortcut": "two words", "title": "x", "body": "x"}, 422, "invalid_shortcut", "shortcut"},
			{"no title", map[string]string{"shortcut": "t2", "title": " ", "body": "x"}, 422, "invalid_title", "title"},
			{"no body", map[string]string{"shortcut": "t3", "title": "x", "body": ""}, 422, "invalid_body", "body"},
			{"long body", map[string]string{"shortcut": "t4", "title": "x", "body": strings.Repeat("b", 2001)}, 422, "invalid_body", "body"},
			{"wrong type", map[string]any{"shortcut": 1, "title": "x", "body": "x"}, 400, "wrong_type", "shortcut"},
			{"unknown field", map[string]any{"shortcut": "t5", "title": "x", "body": "x", "workspace_id": "other"}, 400, "unknown_field", "workspace_id"},
		} {
			res := owner.Do("POST", base, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%s: %d %s", tc.name, res.Status, res.Body)
			}
		}
		if n := countRows(t, d, "canned_responses"); n != 3 {
			t.Fatalf("%d canned responses after refused ones, want 3", n)
		}

		var list cannedList
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if diff := cmp.Diff([]string{"hours", "price", "thanks"}, shortcutsOf(list.Canned)); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}
		for q, want := range map[string][]string{"th": {"thanks"}, "/TH": {"thanks"}, "open": {"hours"}, "តម": {"price"}, "zz": {}} {
			agent.Do("GET", base+"?q="+q, nil).Must(t, 200).JSON(t, &list)
			if diff := cmp.Diff(want, shortcutsOf(list.Canned)); diff != "" {
				t.Errorf("q=%s (-want +got):\n%s", q, diff)
			}
		}
		viewer.Do("GET", base+"?limit=2", nil).Must(t, 200).JSON(t, &list)
		if len(list.Canned) != 2 {
			t.Errorf("limit=2 gave %d", len(list.Canned))
		}
		for _, l := range []string{"0", "101", "x"} {
			if code := viewer.Do("GET", base+"?limit="+l, nil).Must(t, 400).ErrorCode(); code != "invalid_limit" {
				t.Errorf("limit=%s: %s", l, code)
			}
		}

		// One response; a patch changes only what it names.
		var got cannedOne
		viewer.Do("GET", base+"/"+hours.Canned.ID, nil).Must(t, 200).JSON(t, &got)
		if got.Canned != hours.Canned {
			t.Errorf("GET %+v, want %+v", got.Canned, hours.Canned)
		}
		owner.Do("PATCH", base+"/"+hours.Canned.ID, map[string]string{"body": "We open at 8."}).Must(t, 200).JSON(t, &got)
		if want := (cannedOut{hours.Canned.ID, "hours", "Opening hours", "We open at 8."}); got.Canned != want {
			t.Errorf("patched %+v", got.Canned)
		}
		if code := owner.Do("PATCH", base+"/"+hours.Canned.ID, map[string]string{"shortcut": "thanks"}).Must(t, 409).ErrorCode(); code != "shortcut_taken" {
			t.Errorf("renaming onto a taken shortcut: %s", code)
		}
		owner.Do("PATCH", base+"/"+hours.Canned.ID, map[string]string{"title": ""}).Must(t, 422)
		if code := owner.Do("PATCH", base+"/"+hours.Canned.ID, map[string]string{}).Must(t, 400).ErrorCode(); code != "nothing_to_change" {
			t.Errorf("empty patch: %s", code)
		}
		owner.Do("PATCH", base+"/no-such-canned", map[string]string{"title": "x"}).Must(t, 404)
		viewer.Do("GET", base+"/"+hours.Canned.ID, nil).Must(t, 200).JSON(t, &got)
		if got.Canned.Shortcut != "hours" || got.Canned.Title != "Opening hours" {
			t.Errorf("refused patches changed it: %+v", got.Canned)
		}

		// Only admins change them (P-04).
		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("POST", base, map[string]string{"shortcut": "mine", "title": "x", "body": "x"}).Must(t, 403)
			u.Do("PATCH", base+"/"+hours.Canned.ID, map[string]string{"title": "Mine"}).Must(t, 403)
			u.Do("DELETE", base+"/"+hours.Canned.ID, nil).Must(t, 403)
		}

		owner.Do("DELETE", base+"/"+hours.Canned.ID, nil).Must(t, 204)
		owner.Do("DELETE", base+"/"+hours.Canned.ID, nil).Must(t, 404)
		viewer.Do("GET", base+"/"+hours.Canned.ID, nil).Must(t, 404)
	})
}

// Issue 5: an agent gets a canned response filled in for a conversation:
// the contact's name (or the default when the platform shared none), the
// agent's own name and the workspace's; a name cannot inject placeholders.
func TestRenderCannedAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "Sreyleak")
		ws := owner.CreateWorkspace(t, "Leak's Shop")
		viewer := a.SignUp(t, "render-viewer")
		a.Join(t, owner, ws, viewer, "viewer")
		s := seedConversation(t, a, ws, "hi")
		base := "/api/v1/workspaces/" + ws + "/canned-responses"
		var c cannedOne
		owner.Do("POST", base, map[string]string{"shortcut": "hi", "title": "Greeting",
			"body": "Hi {{contact.first_name|there}}, {{agent.first_name}} from {{workspace.name}} here. ({{contact.name}})"}).Must(t, 201).JSON(t, &c)
		render := base + "/" + c.Canned.ID + "/render?conversation_id="

		var out struct {
			Text   string
			Canned cannedOut `json:"canned_response"`
		}
		owner.Do("GET", render+s.conversationID, nil).Must(t, 200).JSON(t, &out)
		if !strings.HasPrefix(out.Text, "Hi there, Sreyleak from Leak's Shop here.") || out.Canned.ID != c.Canned.ID {
			t.Errorf("rendered without a contact name: %+v", out)
		}
		if err := a.Contacts.SetProfile(t.Context(), ws, s.contactID, channel.Profile{FirstName: "{{agent.name}}", LastName: "Sok"}, contact.ProfileFetched); err != nil {
			t.Fatal(err)
		}
		owner.Do("GET", render+s.conversationID, nil).Must(t, 200).JSON(t, &out)
		if want := "Hi {{agent.name}}, Sreyleak from Leak's Shop here. ({{agent.name}} Sok)"; out.Text != want {
			t.Errorf("rendered %q, want %q", out.Text, want)
		}

		if e := errorOf(t, owner.Do("GET", base+"/"+c.Canned.ID+"/render", nil).Must(t, 422)); e.Error.Field != "conversation_id" || e.Error.Message == "" {
			t.Errorf("without a conversation: %+v", e)
		}
		owner.Do("GET", render+"no-such-conversation", nil).Must(t, 404)
		owner.Do("GET", base+"/no-such-canned/render?conversation_id="+s.conversationID, nil).Must(t, 404)
		viewer.Do("GET", render+s.conversationID, nil).Must(t, 403)
	})
}
