package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// rowOf is the list row of a conversation, as the template writes it.
func rowOf(id string) string { return `id="conv-` + id + `"` }

// conv reads a conversation straight from the inbox.
func (s *site) conv(t *testing.T, ws, id string) inbox.Conversation {
	t.Helper()
	c, err := s.Inbox.Conversation(context.Background(), ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Promise P-24 (issue 5 item 8): the list's filters narrow it — by status, by
// whose, by channel, by team and by unread — each kept in the address; an
// unknown status or "whose" is refused in words.
func TestInboxListFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, addr := s.signUp(t, "Sokha")
		ws := owner.createWorkspace("Sokha's Shoes")
		me := s.userID(t, addr)
		a, _ := s.seedConversation(t, ws, "Do you have red ones?")
		b, _ := s.seedConversation(t, ws, "Thanks, all good now")
		c, _ := s.seedConversation(t, ws, "Call me next week")
		list := "/w/" + ws + "/conversations"
		base := list + "/"

		owner.post(base+a+"/assign", url.Values{"user_id": {"me"}}).redirectsTo(t, base+a)
		owner.post(base+b+"/status", url.Values{"status": {"resolved"}}).redirectsTo(t, base+b)
		owner.post(base+c+"/snooze", url.Values{"for": {"1h"}}).redirectsTo(t, base+c)

		owner.get(list).want(t, http.StatusOK, rowOf(a), `data-tab="open" aria-current="page"`, "Do you have red ones?", "unread-dot").
			lacks(t, rowOf(b), rowOf(c))
		owner.get(list+"?status=resolved").want(t, http.StatusOK, rowOf(b), `data-tab="resolved" aria-current="page"`).lacks(t, rowOf(a), rowOf(c))
		owner.get(list+"?status=snoozed").want(t, http.StatusOK, rowOf(c), "Snoozed until").lacks(t, rowOf(a), rowOf(b))
		owner.get(list+"?who=mine").want(t, http.StatusOK, rowOf(a), `data-who="mine" aria-current="page"`, "Sokha")
		owner.get(list+"?who=unassigned").want(t, http.StatusOK, "Everything here has someone assigned").lacks(t, rowOf(a))
		owner.get(list+"?status=resolved&who=mine").want(t, http.StatusOK, "Nothing here is assigned to you").lacks(t, rowOf(b))

		// One channel's; a team's.
		owner.get(list+"?status=resolved&channel="+s.conv(t, ws, b).ChannelID).want(t, http.StatusOK, rowOf(b))
		owner.get(list+"?channel="+s.conv(t, ws, b).ChannelID).want(t, http.StatusOK, "No conversation matches these filters", "Clear filters").lacks(t, rowOf(a))
		sales, err := s.Teams.CreateTeam(context.Background(), audit.Actor{UserID: me}, ws, team.Input{Name: "Sales"})
		if err != nil {
			t.Fatal(err)
		}
		owner.post(base+a+"/team", url.Values{"team_id": {sales.ID}}).redirectsTo(t, base+a)
		owner.get(list+"?team="+sales.ID).want(t, http.StatusOK, rowOf(a), `<option value="`+sales.ID+`" selected>Sales</option>`)

		// Unread: the open conversation page marks it seen.
		owner.get(list+"?unread=1&status=snoozed").want(t, http.StatusOK, rowOf(c))
		owner.post(base+c+"/seen", nil).want(t, http.StatusNoContent)
		owner.get(list+"?unread=1&status=snoozed").want(t, http.StatusOK, "No conversation matches these filters").lacks(t, rowOf(c))

		// Refused, in words.
		owner.get(list+"?status=closed").want(t, http.StatusBadRequest, "There is no “closed” list")
		owner.get(list+"?who=theirs").want(t, http.StatusBadRequest, "Choose whose conversations to show")
		owner.get(list+"?cursor=not-a-cursor").want(t, http.StatusBadRequest, "not valid any more")
	})
}

// Promise P-24: "Load more" continues the list with its keyset cursor: the next
// page holds the rest, none twice, and the last page offers no more.
func TestInboxLoadMore(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, _ := s.signUp(t, "Vanna")
	ws := owner.createWorkspace("Vanna's Vases")
	var ids []string
	for range 52 {
		id, _ := s.seedConversation(t, ws, "Hello")
		ids = append(ids, id)
	}
	list := "/w/" + ws + "/conversations"
	first := owner.get(list).want(t, http.StatusOK, "Load more conversations")
	m := regexp.MustCompile(`hx-get="(/w/[^"]*cursor=[^"]*)"`).FindStringSubmatch(first.Body)
	if m == nil {
		t.Fatalf("no Load more link:\n%s", excerpt(first.Body))
	}
	next := owner.get(strings.ReplaceAll(m[1], "&amp;", "&")).want(t, http.StatusOK).lacks(t, "Load more conversations")
	seen := map[string]int{}
	for _, p := range []*page{first, next} {
		for _, id := range ids {
			if strings.Contains(p.Body, rowOf(id)) {
				seen[id]++
			}
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("conversation %s shown %d times over the two pages", id, seen[id])
		}
	}
	if n := strings.Count(first.Body, "data-conversation>"); n != 50 {
		t.Errorf("the first page has %d rows, want 50", n)
	}
}

// Issue 5 items 1–2: the conversation page's actions — take over, assign,
// team, snooze, resolve and reopen, private notes with a mention — each
// shows on the timeline in words; bad input is refused with words and
// changes nothing.
func TestInboxConversationActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, addr := s.signUp(t, "Sokha")
		ws := owner.createWorkspace("Sokha's Shoes")
		me := s.userID(t, addr)
		agent, aaddr := s.signUp(t, "Dara")
		s.join(t, owner, ws, agent, aaddr, "agent")
		dara := s.userID(t, aaddr)
		viewer, vaddr := s.signUp(t, "Vibol")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		id, _ := s.seedConversation(t, ws, "Is the blue pair in stock?")
		conv := "/w/" + ws + "/conversations/" + id

		owner.get(conv).want(t, http.StatusOK, "Take over", "Resolve", "Snooze", "Assign to me", "Private note: only your team sees it", `data-mentions="`)
		owner.post(conv+"/owner", url.Values{"owner": {"human"}}).redirectsTo(t, conv)
		owner.post(conv+"/assign", url.Values{"user_id": {dara}}).redirectsTo(t, conv)
		owner.post(conv+"/snooze", url.Values{"for": {"tomorrow"}}).redirectsTo(t, conv)
		if c := s.conv(t, ws, id); c.Status != inbox.StatusSnoozed || c.SnoozedUntil.IsZero() || c.AssigneeID != dara || c.Owner != inbox.OwnerHuman {
			t.Fatalf("after the actions: %+v", c)
		}
		owner.post(conv+"/notes", url.Values{"note": {"@[Dara](user:" + dara + ") can you check the blue pair?"}}).redirectsTo(t, conv)
		p := owner.get(conv).want(t, http.StatusOK, "You took over: the bot stays quiet", "You assigned it to Dara",
			"You snoozed it until tomorrow 9:00", "Snoozed until tomorrow 9:00", "Private note",
			`<mark class="mention">@Dara</mark> can you check the blue pair?`, "Return to bot")
		// The raw form is only in the author's edit box, as the note box
		// writes it.
		if strings.Contains(regexp.MustCompile(`(?s)<textarea[^>]*>.*?</textarea>`).ReplaceAllString(p.Body, ""), "(user:") {
			t.Error("the page shows a mention's raw form")
		}
		// Dara is told: the list's Mentions link counts it, the Mentions
		// page shows it; opening the conversation shows the mention as
		// theirs and marks it read.
		mentions := "/w/" + ws + "/conversations/mentions"
		agent.get("/w/"+ws+"/conversations").want(t, http.StatusOK, `<span class="badge">1 new</span>`)
		agent.get(mentions+"?unread=1").want(t, http.StatusOK, "can you check the blue pair?", "unread-dot", `href="`+conv+`"`, "<strong>Sokha</strong>")
		owner.get(mentions).want(t, http.StatusOK, "Nobody has mentioned you yet").lacks(t, "blue pair")
		agent.get(conv).want(t, http.StatusOK, `<mark class="mention mention-me">@Dara</mark>`)
		agent.get(mentions+"?unread=1").want(t, http.StatusOK, "No unread mentions")
		agent.get(mentions).want(t, http.StatusOK, "can you check the blue pair?").lacks(t, "unread-dot")
		if n, err := s.Timeline.UnreadMentions(context.Background(), ws, dara); err != nil || n != 0 {
			t.Errorf("Dara's unread mentions after opening: %d, %v", n, err)
		}

		owner.post(conv+"/status", url.Values{"status": {"resolved"}}).redirectsTo(t, conv)
		owner.get(conv).want(t, http.StatusOK, "You resolved it", "Reopen", `data-status="resolved"`)
		owner.post(conv+"/status", url.Values{"status": {"open"}}).redirectsTo(t, conv)
		owner.post(conv+"/owner", url.Values{"owner": {"bot"}}).redirectsTo(t, conv)
		owner.post(conv+"/assign", url.Values{"user_id": {"me"}}).redirectsTo(t, conv)
		owner.get(conv).want(t, http.StatusOK, "You reopened it", "You returned it to the bot", "You assigned it to yourself")
		before := s.conv(t, ws, id)
		if before.AssigneeID != me {
			t.Fatalf("assigned to %q, want the owner", before.AssigneeID)
		}

		// Refused, in words; nothing changes.
		owner.post(conv+"/snooze", url.Values{"for": {"forever"}}).want(t, http.StatusBadRequest, "Choose how long to snooze")
		owner.post(conv+"/snooze", url.Values{"for": {"custom"}, "until": {"next tuesday"}}).want(t, http.StatusUnprocessableEntity, "Choose a date and a time", "snooze-error")
		owner.post(conv+"/snooze", url.Values{"for": {"custom"}, "until": {"2001-01-01T09:00"}}).want(t, http.StatusUnprocessableEntity, "Choose a time in the future")
		owner.post(conv+"/status", url.Values{"status": {"closed"}}).want(t, http.StatusBadRequest, "Choose to resolve the conversation or to reopen it")
		owner.post(conv+"/owner", url.Values{"owner": {"king"}}).want(t, http.StatusBadRequest)
		vid := s.userID(t, vaddr)
		owner.post(conv+"/assign", url.Values{"user_id": {vid}}).want(t, http.StatusUnprocessableEntity, "Only owners, admins and agents")
		owner.post(conv+"/team", url.Values{"team_id": {"01900000-0000-7000-8000-000000000000"}}).want(t, http.StatusUnprocessableEntity, "That team does not exist")
		owner.post(conv+"/notes", url.Values{"note": {"   "}}).want(t, http.StatusUnprocessableEntity, "note-error")
		if after := s.conv(t, ws, id); after.Status != before.Status || after.AssigneeID != before.AssigneeID || after.TeamID != before.TeamID ||
			after.Owner != before.Owner || !after.SnoozedUntil.Equal(before.SnoozedUntil) {
			t.Errorf("refused input changed the conversation: %+v → %+v", before, after)
		}

		// The typing indicator answers 204, whoever owns it.
		owner.post(conv+"/typing", url.Values{"on": {"1"}}).want(t, http.StatusNoContent)

		// Viewers read everything, with no forms, and may post nothing.
		viewer.get(conv).want(t, http.StatusOK, "can you check the blue pair?", "Sokha resolved it").
			lacks(t, `data-action=`, "Assign to me", `id="reply-text"`, `id="note-text"`, `action="`+conv+`/notes"`, `action="`+conv+`/snooze"`, `action="`+conv+`/status"`)
		for _, path := range []string{"/owner", "/assign", "/team", "/status", "/snooze", "/notes", "/typing", "/reply", "/seen"} {
			viewer.post(conv+path, url.Values{"owner": {"human"}, "user_id": {"me"}, "status": {"resolved"}, "for": {"1h"}, "note": {"hi"}, "text": {"hi"}}).
				want(t, http.StatusForbidden)
		}
		viewer.get(conv+"/canned?q=").want(t, http.StatusForbidden)
		if after := s.conv(t, ws, id); after.Status != before.Status || after.AssigneeID != before.AssigneeID {
			t.Errorf("a viewer changed the conversation: %+v", after)
		}
	})
}

// Canned responses for the reply box: found by what follows "/", filled
// in for this conversation and this agent.
func TestInboxCannedSuggestions(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, addr := s.signUp(t, "Sokha")
	ws := owner.createWorkspace("Sokha's Shoes")
	me := s.userID(t, addr)
	for _, in := range []canned.Input{
		{Shortcut: "thanks", Title: "Thank you", Body: "Thank you {{contact.first_name|there}}! {{agent.first_name}} from {{workspace.name}}"},
		{Shortcut: "hours", Title: "Opening hours", Body: "We open at 9."},
	} {
		if _, err := s.Canned.Create(context.Background(), audit.Actor{UserID: me}, ws, in); err != nil {
			t.Fatal(err)
		}
	}
	id, _ := s.seedConversation(t, ws, "Hi")
	conv := "/w/" + ws + "/conversations/" + id
	var got struct {
		Responses []struct{ Shortcut, Title, Text string } `json:"responses"`
	}
	p := owner.get(conv+"/canned?q=/TH").want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(p.Body), &got); err != nil {
		t.Fatalf("%v: %s", err, p.Body)
	}
	if len(got.Responses) != 1 || got.Responses[0].Shortcut != "thanks" || got.Responses[0].Text != "Thank you there! Sokha from Sokha's Shoes" {
		t.Errorf("suggestions: %+v", got.Responses)
	}
}

// Promise P-03: another workspace's conversation answers 404 to every new
// action, and nothing of it changes.
func TestInboxOtherWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		a, _ := s.signUp(t, "Jin")
		wsA := a.createWorkspace("Jin's")
		id, _ := s.seedConversation(t, wsA, "Private question")
		b, _ := s.signUp(t, "Kai")
		wsB := b.createWorkspace("Kai's")
		for _, base := range []string{"/w/" + wsA + "/conversations/" + id, "/w/" + wsB + "/conversations/" + id} {
			for _, path := range []string{"/owner", "/assign", "/team", "/status", "/snooze", "/notes", "/typing"} {
				b.post(base+path, url.Values{"owner": {"human"}, "user_id": {"me"}, "status": {"resolved"}, "for": {"1h"}, "note": {"pwned"}, "on": {"1"}}).
					want(t, http.StatusNotFound)
			}
			b.get(base+"/canned?q=").want(t, http.StatusNotFound)
		}
		c := s.conv(t, wsA, id)
		if c.Status != inbox.StatusOpen || c.AssigneeID != "" || c.Owner != inbox.OwnerBot {
			t.Errorf("a stranger changed the conversation: %+v", c)
		}
		if items, err := s.Inbox.Timeline(context.Background(), wsA, id, "", 50); err != nil || len(items.Items) != 1 {
			t.Errorf("the timeline has %d items (%v), want the one message", len(items.Items), err)
		}
	})
}

// The full timeline: past the newest page, "Show earlier" answers the
// items before it, none twice and none left out; a bad cursor is refused
// and another workspace's conversation is not found.
func TestInboxEarlierTimeline(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, addr := s.signUp(t, "Lina")
	ws := owner.createWorkspace("Lina's Lamps")
	me := s.userID(t, addr)
	id, _ := s.seedConversation(t, ws, "First message")
	for i := range 104 {
		if _, err := s.Timeline.AddNote(context.Background(), audit.Actor{UserID: me}, ws, id, "note "+strconv.Itoa(i)+"."); err != nil {
			t.Fatal(err)
		}
	}
	conv := "/w/" + ws + "/conversations/" + id
	first := owner.get(conv).want(t, http.StatusOK, "Show earlier messages", "note 103.").lacks(t, "First message", ">note 3.<")
	m := regexp.MustCompile(`hx-get="(/w/[^"]*/thread/earlier\?cursor=[^"]*)"`).FindStringSubmatch(first.Body)
	if m == nil {
		t.Fatalf("no Show earlier link:\n%s", excerpt(first.Body))
	}
	older := owner.get(strings.ReplaceAll(m[1], "&amp;", "&")).want(t, http.StatusOK, "First message", ">note 3.<").lacks(t, "<html", "Show earlier messages")
	for i := range 104 {
		// As shown; the author's edit box holds the text once more.
		n := `<p class="note-text">note ` + strconv.Itoa(i) + ".<"
		if c := strings.Count(first.Body, n) + strings.Count(older.Body, n); c != 1 {
			t.Errorf("%q shown %d times over the two pages", n, c)
		}
	}
	owner.get(conv+"/thread/earlier?cursor=nonsense").want(t, http.StatusBadRequest)
	other, _ := s.signUp(t, "Kai")
	wsB := other.createWorkspace("Kai's")
	other.get("/w/"+wsB+"/conversations/"+id+"/thread/earlier?cursor=x").want(t, http.StatusNotFound)
}

// Issue 5 item 1: opening a conversation (a GET: maybe a prefetch or a
// background tab) does not mark it seen; the page says it has unread
// messages and posts "seen" once on screen, which clears the unread state.
// Another workspace's conversation is a 404.
func TestSeenIsAPostNotAGet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Sokha")
		ws := owner.createWorkspace("Sokha's Shoes")
		id, _ := s.seedConversation(t, ws, "Is anyone there?")
		conv := "/w/" + ws + "/conversations/" + id
		owner.get(conv).want(t, http.StatusOK, `data-unread`, "Is anyone there?")
		owner.get(conv+"/thread").want(t, http.StatusOK, `data-unread`)
		if c := s.conv(t, ws, id); !c.Unread() {
			t.Fatalf("opening the page marked it seen: %+v", c)
		}
		owner.post(conv+"/seen", nil).want(t, http.StatusNoContent)
		if c := s.conv(t, ws, id); c.Unread() {
			t.Errorf("still unread after the page said it was seen: %+v", c)
		}
		owner.get(conv).want(t, http.StatusOK, "Is anyone there?").lacks(t, `data-unread`)

		other, _ := s.signUp(t, "Dara")
		otherWS := other.createWorkspace("Dara's Dresses")
		other.post("/w/"+otherWS+"/conversations/"+id+"/seen", nil).want(t, http.StatusNotFound)
	})
}

// Issue 5 item 1: private notes are edited by their author and deleted by
// their author or an admin, from the conversation page. An edit that
// mentions a teammate tells them; an empty edit is refused and changes
// nothing; someone else's note cannot be edited, an agent cannot delete
// another's note, and a note of another conversation is a 404.
func TestInboxNoteEditAndDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Sokha")
		ws := owner.createWorkspace("Sokha's Shoes")
		agent, aaddr := s.signUp(t, "Dara")
		s.join(t, owner, ws, agent, aaddr, "agent")
		dara := s.userID(t, aaddr)
		id, _ := s.seedConversation(t, ws, "Is the blue pair in stock?")
		other, _ := s.seedConversation(t, ws, "And the red one?")
		conv := "/w/" + ws + "/conversations/" + id
		ctx := context.Background()
		noteIDs := func() []string {
			t.Helper()
			pg, err := s.Inbox.Timeline(ctx, ws, id, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, it := range pg.Items {
				if it.Event != nil && it.Event.Note != nil {
					out = append(out, it.Event.ID)
				}
			}
			return out
		}

		owner.post(conv+"/notes", url.Values{"note": {"check the warehouse"}}).redirectsTo(t, conv)
		ids := noteIDs()
		if len(ids) != 1 {
			t.Fatalf("notes = %v", ids)
		}
		mine := ids[0]
		agent.post(conv+"/notes", url.Values{"note": {"on it"}}).redirectsTo(t, conv)
		theirs := ""
		for _, n := range noteIDs() {
			if n != mine {
				theirs = n
			}
		}
		owner.get(conv).want(t, http.StatusOK, `action="`+conv+`/notes/`+mine+`/edit"`, `action="`+conv+`/notes/`+theirs+`/delete"`).
			lacks(t, `action="`+conv+`/notes/`+theirs+`/edit"`)
		agent.get(conv).want(t, http.StatusOK, `action="`+conv+`/notes/`+theirs+`/edit"`).
			lacks(t, `action="`+conv+`/notes/`+mine+`/delete"`)

		owner.post(conv+"/notes/"+mine+"/edit", url.Values{"note": {"@[Dara](user:" + dara + ") check the warehouse"}}).redirectsTo(t, conv)
		owner.get(conv).want(t, http.StatusOK, `<mark class="mention">@Dara</mark> check the warehouse`, "edited")
		if n, err := s.Timeline.UnreadMentions(ctx, ws, dara); err != nil || n != 1 {
			t.Errorf("Dara's unread mentions after the edit: %d, %v", n, err)
		}
		owner.post(conv+"/notes/"+mine+"/edit", url.Values{"note": {"   "}}).want(t, http.StatusUnprocessableEntity, "The note was not changed")
		agent.post(conv+"/notes/"+mine+"/edit", url.Values{"note": {"hijacked"}}).want(t, http.StatusForbidden)
		agent.post(conv+"/notes/"+mine+"/delete", nil).want(t, http.StatusForbidden)
		owner.post("/w/"+ws+"/conversations/"+other+"/notes/"+mine+"/edit", url.Values{"note": {"moved"}}).want(t, http.StatusNotFound)
		owner.post(conv+"/notes/not-a-note/delete", nil).want(t, http.StatusNotFound)
		owner.get(conv).want(t, http.StatusOK, "check the warehouse").lacks(t, "hijacked", "moved")

		// The admin deletes the agent's note; the agent deletes nothing more.
		owner.post(conv+"/notes/"+theirs+"/delete", nil).redirectsTo(t, conv)
		if got := noteIDs(); len(got) != 1 || got[0] != mine {
			t.Errorf("notes after the delete = %v", got)
		}
	})
}
