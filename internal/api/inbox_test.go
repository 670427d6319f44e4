package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// inboxConv is a conversation with the shared inbox's fields.
type inboxConv struct {
	ID, Status, Owner string
	AssigneeID        *string    `json:"assignee_id"`
	TeamID            *string    `json:"team_id"`
	SnoozedUntil      *time.Time `json:"snoozed_until"`
	Unread            bool
	Contact           struct{ ID string }
}

type inboxPage struct {
	Conversations []inboxConv
	NextCursor    string `json:"next_cursor"`
	NextBefore    string `json:"next_before"`
}

// ids lists the page's conversation IDs, sorted.
func (p inboxPage) ids() []string {
	out := []string{}
	for _, c := range p.Conversations {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

// keyClient is a client authenticated with one of the tenant's API keys.
func keyClient(t *testing.T, a *apptest.App, tn *tenant, role string) *apptest.Client {
	c := a.Client(t)
	c.Header.Set("Authorization", "Bearer "+tn.keys[role])
	return c
}

// Issue 5 item 1 (P-24): the list filters by status (several at once),
// assignee (me, none, a member), team, channel, tag and unread, and pages
// by cursor through every match exactly once. Filters naming another
// workspace's objects match nothing; bad filters are refused.
func TestInboxListFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		A, B := newTenant(t, a, "lista"), newTenant(t, a, "listb")
		base := "/api/v1/workspaces/" + A.ws + "/conversations"
		tagged := A.conversationID // its contact has A.tagID
		a.Clock.Advance(time.Minute)
		mine := seedConversation(t, a, A.ws, "for the agent").conversationID
		a.Clock.Advance(time.Minute)
		done := seedConversation(t, a, A.ws, "resolved soon").conversationID
		a.Clock.Advance(time.Minute)
		team := seedConversation(t, a, A.ws, "for the team").conversationID
		A.agent.Do("PATCH", base+"/"+mine, map[string]any{"assignee_id": "me"}).Must(t, 200)
		A.owner.Do("PATCH", base+"/"+done, map[string]any{"status": "resolved"}).Must(t, 200)
		A.owner.Do("PATCH", base+"/"+team, map[string]any{"team_id": A.teamID, "status": "pending"}).Must(t, 200)
		A.owner.Do("POST", base+"/"+tagged+"/seen", nil).Must(t, 200)

		for _, tc := range []struct {
			who   *apptest.User
			query string
			want  []string
		}{
			{A.viewer, "", sorted(tagged, mine, done, team)},
			{A.viewer, "?status=open", sorted(tagged, mine)},
			{A.viewer, "?status=open,resolved", sorted(tagged, mine, done)},
			{A.viewer, "?status=resolved&status=pending", sorted(done, team)},
			{A.agent, "?assignee=me", sorted(mine)},
			{A.owner, "?assignee=me", sorted()},
			{A.viewer, "?assignee=" + A.agent.ID, sorted(mine)},
			{A.viewer, "?assignee=none", sorted(tagged, done, team)},
			{A.viewer, "?team_id=" + A.teamID, sorted(team)},
			{A.viewer, "?tag_id=" + A.tagID, sorted(tagged)},
			{A.viewer, "?channel_id=" + A.channelID, sorted(tagged)},
			{A.viewer, "?unread=true", sorted(mine, done, team)},
			{A.viewer, "?unread=false", sorted(tagged, mine, done, team)},
			{A.viewer, "?unread=true&status=open&assignee=none", sorted()},
			// Another workspace's objects match nothing.
			{A.owner, "?team_id=" + B.teamID, sorted()},
			{A.owner, "?tag_id=" + B.tagID, sorted()},
			{A.owner, "?channel_id=" + B.channelID, sorted()},
			{A.owner, "?assignee=" + B.agent.ID, sorted()},
			{A.owner, "?workspace_id=" + B.ws, sorted(tagged, mine, done, team)},
		} {
			var p inboxPage
			tc.who.Do("GET", base+tc.query, nil).Must(t, 200).JSON(t, &p)
			if got := p.ids(); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
			}
		}

		// Paging: every conversation once, in the list's order (most
		// recently active first), in pages of one; the old
		// before/next_before still page the same way.
		var whole inboxPage
		A.viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &whole)
		var order []string
		for _, c := range whole.Conversations {
			order = append(order, c.ID)
		}
		if whole.NextCursor != "" || len(order) != 4 || order[3] != tagged {
			t.Fatalf("the whole list: %+v", whole)
		}
		var doc map[string]any
		if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
			t.Fatal(err)
		}
		var raw struct{ Conversations []any }
		A.viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &raw)
		for i, c := range raw.Conversations {
			conforms(t, doc, "#/components/schemas/Conversation", c, fmt.Sprintf("conversations[%d]", i))
		}
		for _, param := range []string{"cursor", "before"} {
			var seen []string
			cur := ""
			for range 10 {
				var p inboxPage
				A.viewer.Do("GET", base+"?limit=1&"+param+"="+url.QueryEscape(cur), nil).Must(t, 200).JSON(t, &p)
				for _, c := range p.Conversations {
					seen = append(seen, c.ID)
				}
				if p.NextCursor != p.NextBefore {
					t.Fatalf("next_cursor %q and next_before %q differ", p.NextCursor, p.NextBefore)
				}
				if cur = p.NextCursor; cur == "" {
					break
				}
			}
			if !slices.Equal(seen, order) {
				t.Errorf("paging by %s: %v, want %v", param, seen, order)
			}
		}
		// B's cursor positions A's list, never shows B's rows.
		var bp inboxPage
		B.owner.Do("GET", "/api/v1/workspaces/"+B.ws+"/conversations?limit=1", nil).Must(t, 200).JSON(t, &bp)
		var ap inboxPage
		A.owner.Do("GET", base+"?cursor="+url.QueryEscape(bp.NextCursor), nil).Must(t, 200).JSON(t, &ap)
		for _, c := range ap.Conversations {
			if c.ID == B.conversationID || !slices.Contains([]string{tagged, mine, done, team}, c.ID) {
				t.Errorf("A's list with B's cursor shows %s", c.ID)
			}
		}

		for _, tc := range []struct {
			query      string
			status     int
			code, user string
		}{
			{"?status=archived", 400, "invalid_status", ""},
			{"?status=open,nope", 400, "invalid_status", ""},
			{"?unread=yes", 400, "invalid_unread", ""},
			{"?cursor=not-a-cursor", 400, "invalid_cursor", ""},
			{"?limit=0", 400, "invalid_limit", ""},
			{"?assignee=me", 422, "assignee_me_needs_user", "key"},
		} {
			c := A.owner.Client
			if tc.user == "key" {
				c = keyClient(t, a, A, "viewer")
			}
			if code := c.Do("GET", base+tc.query, nil).Must(t, tc.status).ErrorCode(); code != tc.code {
				t.Errorf("%s: %s, want %s", tc.query, code, tc.code)
			}
		}
	})
}

// Issue 5 items 1–3: PATCH assigns (me, a member, null), moves to a team
// (or out), snoozes, sets the status and the owner; every bad field is
// refused before anything changes; another workspace's member or team is
// a 404; an API key's reply assigns nobody.
func TestConversationPatchFields(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		A, B := newTenant(t, a, "patcha"), newTenant(t, a, "patchb")
		one := "/api/v1/workspaces/" + A.ws + "/conversations/" + A.conversationID
		get := func() inboxConv {
			var c inboxConv
			A.viewer.Do("GET", one, nil).Must(t, 200).JSON(t, &c)
			return c
		}
		before := get()
		if before.Owner != "bot" || before.Status != "open" || before.AssigneeID != nil || before.TeamID != nil || !before.Unread {
			t.Fatalf("fresh conversation %+v", before)
		}
		future := a.Clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
		for _, tc := range []struct {
			body   any
			status int
			code   string
		}{
			{map[string]any{}, 400, "nothing_to_change"},
			{map[string]any{"status": "snoozed"}, 422, "invalid_snoozed_until"},
			{map[string]any{"status": "open", "snoozed_until": future}, 422, "invalid_snoozed_until"},
			{map[string]any{"snoozed_until": a.Clock.Now().Add(-time.Minute).Format(time.RFC3339)}, 422, "invalid_snoozed_until"},
			{map[string]any{"snoozed_until": a.Clock.Now().Add(400 * 24 * time.Hour).Format(time.RFC3339)}, 422, "invalid_snoozed_until"},
			{map[string]any{"snoozed_until": "tomorrow"}, 422, "invalid_snoozed_until"},
			{map[string]any{"assignee_id": 7}, 400, "wrong_type"},
			{map[string]any{"assignee_id": A.viewer.ID, "status": "resolved"}, 422, "invalid_assignee_id"},
			{map[string]any{"assignee_id": B.agent.ID, "owner": "human"}, 404, "not_found"},
			{map[string]any{"assignee_id": "no-such-user"}, 404, "not_found"},
			{map[string]any{"team_id": B.teamID, "status": "resolved"}, 404, "not_found"},
			{map[string]any{"owner": "human", "team_id": "no-such-team"}, 404, "not_found"},
			{map[string]any{"owner": "robot", "assignee_id": A.agent.ID}, 422, "invalid_owner"},
		} {
			res := A.agent.Do("PATCH", one, tc.body)
			if res.Status != tc.status || res.ErrorCode() != tc.code {
				t.Errorf("%v: %d %s, want %d %s", tc.body, res.Status, res.Body, tc.status, tc.code)
			}
		}
		if after := get(); after.Owner != before.Owner || after.Status != before.Status || after.AssigneeID != nil || after.TeamID != nil {
			t.Fatalf("refused changes changed the conversation: %+v", after)
		}
		if code := keyClient(t, a, A, "agent").Do("PATCH", one, map[string]any{"assignee_id": "me"}).Must(t, 422).ErrorCode(); code != "assignee_me_needs_user" {
			t.Errorf("a key assigning me: %s", code)
		}

		// Assigning a member while the bot owns it hands it to people; an
		// explicit owner in the same request wins.
		var c inboxConv
		A.agent.Do("PATCH", one, map[string]any{"assignee_id": "me", "team_id": A.teamID}).Must(t, 200).JSON(t, &c)
		if c.AssigneeID == nil || *c.AssigneeID != A.agent.ID || c.TeamID == nil || *c.TeamID != A.teamID || c.Owner != "human" {
			t.Fatalf("after assigning: %+v", c)
		}
		A.agent.Do("PATCH", one, map[string]any{"assignee_id": nil, "team_id": nil, "owner": "bot"}).Must(t, 200).JSON(t, &c)
		if c.AssigneeID != nil || c.TeamID != nil || c.Owner != "bot" {
			t.Fatalf("after clearing: %+v", c)
		}
		A.agent.Do("PATCH", one, map[string]any{"assignee_id": A.admin.ID, "owner": "ai"}).Must(t, 200).JSON(t, &c)
		if *c.AssigneeID != A.admin.ID || c.Owner != "ai" {
			t.Fatalf("assigned with owner ai: %+v", c)
		}
		A.agent.Do("PATCH", one, map[string]any{"snoozed_until": future}).Must(t, 200).JSON(t, &c)
		if c.Status != "snoozed" || c.SnoozedUntil == nil || c.SnoozedUntil.Format(time.RFC3339) != future {
			t.Fatalf("snoozed: %+v", c)
		}
		A.agent.Do("PATCH", one, map[string]any{"status": "pending", "owner": "human"}).Must(t, 200).JSON(t, &c)
		if c.Status != "pending" || c.SnoozedUntil != nil || c.Owner != "human" {
			t.Fatalf("pending and human: %+v", c)
		}
		A.agent.Do("PATCH", one, map[string]any{"status": "snoozed", "snoozed_until": future}).Must(t, 200)
		A.agent.Do("PATCH", one, map[string]any{"status": "resolved"}).Must(t, 200).JSON(t, &c)
		if c.Status != "resolved" || c.SnoozedUntil != nil {
			t.Fatalf("resolved: %+v", c)
		}

		// An API key's reply is an integration's: it neither takes the
		// conversation over nor assigns anyone.
		other := seedConversation(t, a, A.ws, "from the CRM's side")
		path := "/api/v1/workspaces/" + A.ws + "/conversations/" + other.conversationID
		keyClient(t, a, A, "agent").Do("POST", path+"/messages", map[string]string{"text": "Hello from the CRM"}).Must(t, 201)
		A.viewer.Do("GET", path, nil).Must(t, 200).JSON(t, &c)
		if c.AssigneeID != nil || c.Owner != "bot" {
			t.Errorf("after an API key's reply: %+v", c)
		}
		// A member's reply assigns them.
		A.agent.Do("POST", path+"/messages", map[string]string{"text": "I'll take it"}).Must(t, 201)
		A.viewer.Do("GET", path, nil).Must(t, 200).JSON(t, &c)
		if c.AssigneeID == nil || *c.AssigneeID != A.agent.ID {
			t.Errorf("after a member's reply: %+v", c)
		}
	})
}

// timelineOut is a page of the timeline as the API sends it.
type timelineOut struct {
	Items []struct {
		Type, ID string
		At       time.Time
		Message  *messageOut
		Event    *struct {
			Kind, Actor string
			Data        map[string]string
		}
		Note *struct {
			Text     string
			AuthorID string `json:"author_id"`
		}
	}
	NextCursor string `json:"next_cursor"`
}

// Issue 5 item 1: the timeline merges messages, events and notes newest
// first, pages by cursor through every item once, and matches openapi.json;
// another workspace's conversation is a 404, a bad cursor a 400.
func TestConversationTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		A, B := newTenant(t, a, "tla"), newTenant(t, a, "tlb")
		one := "/api/v1/workspaces/" + A.ws + "/conversations/" + A.conversationID
		a.Clock.Advance(time.Minute)
		A.agent.Do("PATCH", one, map[string]any{"owner": "human"}).Must(t, 200)
		a.Clock.Advance(time.Minute)
		A.agent.Do("POST", one+"/messages", map[string]string{"text": "Let me check"}).Must(t, 201)
		a.Clock.Advance(time.Minute)
		A.agent.Do("PATCH", one, map[string]any{"status": "resolved", "owner": "bot"}).Must(t, 200)
		a.Clock.Advance(time.Minute)
		A.agent.Do("POST", one+"/seen", nil).Must(t, 200)

		var all timelineOut
		A.viewer.Do("GET", one+"/timeline", nil).Must(t, 200).JSON(t, &all)
		var kinds []string
		for _, it := range all.Items {
			switch it.Type {
			case "message":
				kinds = append(kinds, "message:"+it.Message.Direction)
			case "note":
				kinds = append(kinds, "note")
				if it.Note.Text == "" || it.Note.AuthorID != A.owner.ID {
					t.Errorf("note %+v", it.Note)
				}
			case "event":
				kinds = append(kinds, it.Event.Kind)
			}
		}
		// The seed's note (by the owner) and message come first; then the
		// takeover, the reply (which assigned the agent), the resolve and
		// the return to the bot.
		for _, want := range []string{"message:in", "note", "owner", "message:out", "assignment", "status"} {
			if !slices.Contains(kinds, want) {
				t.Errorf("timeline %v has no %s", kinds, want)
			}
		}
		// Opening it saw the person's message: the newest event.
		if all.Items[0].Type != "event" || all.Items[0].Event.Kind != "seen" {
			t.Errorf("newest item %+v", all.Items[0])
		}
		for i := 1; i < len(all.Items); i++ {
			if all.Items[i].At.After(all.Items[i-1].At) {
				t.Errorf("item %d is newer than item %d", i, i-1)
			}
		}

		var paged []string
		cur := ""
		for range 50 {
			var p timelineOut
			A.viewer.Do("GET", one+"/timeline?limit=2&cursor="+url.QueryEscape(cur), nil).Must(t, 200).JSON(t, &p)
			for _, it := range p.Items {
				paged = append(paged, it.ID)
			}
			if cur = p.NextCursor; cur == "" {
				break
			}
		}
		var want []string
		for _, it := range all.Items {
			want = append(want, it.ID)
		}
		if !slices.Equal(paged, want) {
			t.Errorf("paged %v, want %v", paged, want)
		}

		var doc map[string]any
		if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
			t.Fatal(err)
		}
		var raw struct{ Items []any }
		A.viewer.Do("GET", one+"/timeline", nil).Must(t, 200).JSON(t, &raw)
		for i, it := range raw.Items {
			conforms(t, doc, "#/components/schemas/TimelineItem", it, fmt.Sprintf("timeline[%d]", i))
		}
		var conv any
		A.viewer.Do("GET", one, nil).Must(t, 200).JSON(t, &conv)
		conforms(t, doc, "#/components/schemas/Conversation", conv, "conversation")

		A.viewer.Do("GET", "/api/v1/workspaces/"+A.ws+"/conversations/"+B.conversationID+"/timeline", nil).Must(t, 404)
		if code := A.viewer.Do("GET", one+"/timeline?cursor=abc!", nil).Must(t, 400).ErrorCode(); code != "invalid_cursor" {
			t.Errorf("bad cursor: %s", code)
		}
	})
}

// Issue 5 item 1: marking seen clears unread (agents only); typing needs a
// conversation a person owns.
func TestSeenAndTypingRules(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	owner := a.SignUp(t, "seen")
	ws := owner.CreateWorkspace(t, "Seen")
	s := seedConversation(t, a, ws, "anyone there?")
	one := "/api/v1/workspaces/" + ws + "/conversations/" + s.conversationID
	var c inboxConv
	owner.Do("POST", one+"/seen", nil).Must(t, 200).JSON(t, &c)
	if c.Unread {
		t.Errorf("unread after seen: %+v", c)
	}
	if code := owner.Do("POST", one+"/typing", map[string]any{"on": true}).Must(t, 409).ErrorCode(); code != "not_human_owned" {
		t.Errorf("typing while the bot owns it: %s", code)
	}
	for _, body := range []any{map[string]any{}, map[string]any{"on": nil}} {
		if code := owner.Do("POST", one+"/typing", body).Must(t, 422).ErrorCode(); code != "invalid_on" {
			t.Errorf("typing %v: %s", body, code)
		}
	}
	owner.Do("POST", one+"/typing", map[string]any{"on": "yes"}).Must(t, 400)
	owner.Do("POST", "/api/v1/workspaces/"+ws+"/conversations/no-such/seen", nil).Must(t, 404)
	owner.Do("POST", "/api/v1/workspaces/"+ws+"/conversations/no-such/typing", map[string]any{"on": true}).Must(t, 404)
}

// Issue 5 item 2: the inbox settings: everyone reads them, admins set
// them within bounds; a bad value changes nothing.
func TestInboxSettingsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		A, B := newTenant(t, a, "seta"), newTenant(t, a, "setb")
		path := "/api/v1/workspaces/" + A.ws + "/inbox-settings"
		type settings struct {
			Settings struct {
				Minutes int `json:"return_to_bot_after_minutes"`
			}
		}
		var s settings
		A.viewer.Do("GET", path, nil).Must(t, 200).JSON(t, &s)
		if s.Settings.Minutes != 0 {
			t.Fatalf("defaults %+v", s)
		}
		A.admin.Do("PUT", path, map[string]any{"return_to_bot_after_minutes": 30}).Must(t, 200).JSON(t, &s)
		if s.Settings.Minutes != 30 {
			t.Fatalf("saved %+v", s)
		}
		for _, tc := range []struct {
			body   any
			status int
			code   string
		}{
			{map[string]any{"return_to_bot_after_minutes": -1}, 422, "invalid_return_to_bot_after_minutes"},
			{map[string]any{"return_to_bot_after_minutes": 43201}, 422, "invalid_return_to_bot_after_minutes"},
			{map[string]any{}, 422, "invalid_return_to_bot_after_minutes"},
			// Automatic assignment is set with the teams, not here.
			{map[string]any{"return_to_bot_after_minutes": 5, "auto_assign": true}, 400, "unknown_field"},
			{map[string]any{"return_to_bot_after_minutes": 1.5}, 400, "wrong_type"},
			{map[string]any{"return_to_bot_after_minutes": 5, "x": 1}, 400, "unknown_field"},
		} {
			if code := A.admin.Do("PUT", path, tc.body).Must(t, tc.status).ErrorCode(); code != tc.code {
				t.Errorf("%v: %s, want %s", tc.body, code, tc.code)
			}
		}
		A.agent.Do("PUT", path, map[string]any{"return_to_bot_after_minutes": 1}).Must(t, 403)
		A.owner.Do("PUT", "/api/v1/workspaces/"+B.ws+"/inbox-settings", map[string]any{"return_to_bot_after_minutes": 1}).Must(t, 404)
		A.viewer.Do("GET", path, nil).Must(t, 200).JSON(t, &s)
		if s.Settings.Minutes != 30 {
			t.Fatalf("refused changes changed the settings: %+v", s)
		}
		var doc map[string]any
		if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
			t.Fatal(err)
		}
		var raw struct{ Settings any }
		A.viewer.Do("GET", path, nil).Must(t, 200).JSON(t, &raw)
		conforms(t, doc, "#/components/schemas/InboxSettings", raw.Settings, "settings")
		B.viewer.Do("GET", "/api/v1/workspaces/"+B.ws+"/inbox-settings", nil).Must(t, 200).JSON(t, &s)
		if s.Settings.Minutes != 0 {
			t.Fatalf("B's settings %+v", s)
		}
	})
}
