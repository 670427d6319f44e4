package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var channelLink = regexp.MustCompile(`/channels/([0-9a-f-]{36})`)

// channelID returns the channel a redirect or page points to.
func channelID(t *testing.T, s string) string {
	t.Helper()
	m := channelLink.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no channel link in %q", excerpt(s))
	}
	return m[1]
}

// Issue 3 items 7 and 8: the Channels page says what to do when empty,
// offers the test page, connecting with Facebook and pasting a token to
// admins only, and a pasted token is checked, never shown again.
// Promise P-10.
func TestChannelsPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Ana")
		ws := owner.createWorkspace("Ana's Noodles")
		viewer, vaddr := s.signUp(t, "Ben")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		agent, aaddr := s.signUp(t, "Cam")
		s.join(t, owner, ws, agent, aaddr, "agent")
		list := "/w/" + ws + "/channels"

		owner.get(list).want(t, http.StatusOK, "No channels yet", "Connect a test page", "Connect with Facebook",
			`href="/w/`+ws+`/channels/messenger/connect"`, "Paste a Page access token", `aria-current="page">Channels`)
		viewer.get(list).want(t, http.StatusOK, "No channels yet", "Ask an owner or admin").
			lacks(t, "Connect a test page", "Paste a Page access token", "Connect with Facebook")
		viewer.post(list+"/test-page", nil).want(t, http.StatusForbidden)
		agent.post(list+"/test-page", nil).want(t, http.StatusForbidden)
		agent.post(list+"/messenger/token", url.Values{"page_id": {"1"}, "access_token": {"x"}}).want(t, http.StatusForbidden)

		sim := s.Sim.Sim()
		pg := sim.AddPage(sim.AddUser("Ana").ID, "Ana's Noodles")
		for _, tc := range []struct {
			pageID, token, msg, field string
		}{
			{"not-digits", pg.Token, "A Page ID has only digits.", "page-id-error"},
			{pg.ID, "", "Paste the Page access token.", "access-token-error"},
			{pg.ID, "EAAwrong-token", "Facebook does not accept this token", ""},
		} {
			p := owner.post(list+"/messenger/token", url.Values{"page_id": {tc.pageID}, "access_token": {tc.token}}).
				want(t, http.StatusUnprocessableEntity, tc.msg, tc.field)
			p.lacks(t, "EAAwrong-token", pg.Token) // a token is never echoed back
		}
		if cs, _ := s.Channels.List(context.Background(), ws); len(cs) != 0 {
			t.Fatalf("refused tokens connected %v", cs)
		}

		loc := owner.post(list+"/messenger/token", url.Values{"page_id": {pg.ID}, "access_token": {pg.Token}}).redirectsTo(t, list+"/")
		id := channelID(t, loc)
		owner.get(loc).want(t, http.StatusOK, "is connected", "Connected and working", pg.ID, "Automatic reply", "Disconnect this Page").
			lacks(t, pg.Token)
		owner.get(list).want(t, http.StatusOK, "Ana&#39;s Noodles", "Connected", "nothing received yet").lacks(t, "No channels yet", pg.Token)
		owner.get("/w/"+ws).want(t, http.StatusOK, "1 channel is connected", "Open Conversations").lacks(t, "Connect your first channel")

		// The test page, in one click.
		loc = owner.post(list+"/test-page", nil).redirectsTo(t, list+"/")
		owner.get(loc).want(t, http.StatusOK, "Test page", "Start a test conversation")

		// Agents and viewers see the channel, not its settings form.
		agent.get(list+"/"+id).want(t, http.StatusOK, "Connected and working", "Only owners and admins can change these settings").
			lacks(t, `name="auto_reply"`, "Disconnect this Page")
		agent.post(list+"/"+id+"/settings", url.Values{"auto_reply": {"pwned"}}).want(t, http.StatusForbidden)
		agent.post(list+"/"+id+"/disconnect", nil).want(t, http.StatusForbidden)
	})
}

// Channel settings are saved through the form (pushed to Messenger), with
// errors next to their row; disconnecting asks first, then keeps the
// channel's conversations.
func TestChannelSettingsAndDisconnect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Dee")
		ws := owner.createWorkspace("Dee's Dumplings")
		list := "/w/" + ws + "/channels"
		page := owner.post(list+"/test-page", nil).redirectsTo(t, list+"/")
		id := channelID(t, page)
		settings := list + "/" + id + "/settings"

		owner.post(settings, url.Values{"menu_title": {"Opening hours"}, "menu_action": {"HOURS"}}).
			want(t, http.StatusUnprocessableEntity, "A menu needs a Get Started button", `value="Opening hours"`)
		owner.post(settings, url.Values{"get_started": {"GET_STARTED"}, "menu_title": {"Hours", ""}, "menu_action": {"", ""}}).
			want(t, http.StatusUnprocessableEntity, "Menu entry 1: Enter the payload the entry sends, or a link.")
		owner.post(settings, url.Values{"greeting": {strings.Repeat("g", 161)}}).
			want(t, http.StatusUnprocessableEntity, "Use at most 160 characters", "greeting-error")
		if ch, _ := s.Channels.Get(context.Background(), ws, id); ch.Settings.GetStarted != "" || ch.Settings.Greeting != "" {
			t.Fatalf("refused settings were saved: %+v", ch.Settings)
		}

		owner.post(settings, url.Values{
			"auto_reply": {"Thanks! We answer within the hour."}, "get_started": {"GET_STARTED"},
			"greeting":   {"Hi {{user_first_name}}!"},
			"menu_title": {"Opening hours", "Our shop", ""}, "menu_action": {"HOURS", "https://example.com/shop", ""},
			"ice_question": {"What are your prices?", "", "", ""}, "ice_payload": {"PRICES", "", "", ""},
		}).want(t, http.StatusOK, "Saved.", "Thanks! We answer within the hour.", `value="https://example.com/shop"`, `value="What are your prices?"`)
		ch, err := s.Channels.Get(context.Background(), ws, id)
		if err != nil {
			t.Fatal(err)
		}
		if ch.AutoReply != "Thanks! We answer within the hour." || len(ch.Settings.Menu) != 2 || ch.Settings.Menu[1].URL != "https://example.com/shop" ||
			ch.Settings.Menu[0].Payload != "HOURS" || len(ch.Settings.IceBreakers) != 1 {
			t.Fatalf("saved = %+v %+v", ch.AutoReply, ch.Settings)
		}
		if p := string(s.Sim.Sim().Profile(ch.ExternalID)); !strings.Contains(p, "GET_STARTED") {
			t.Errorf("not pushed to Messenger: %s", p)
		}

		owner.get(list+"/"+id+"/disconnect").want(t, http.StatusOK, "Disconnect “", "Its conversations and contacts stay", "Yes, disconnect")
		owner.post(list+"/"+id+"/disconnect", nil).redirectsTo(t, list+"?disconnected=1")
		owner.get(list+"?disconnected=1").want(t, http.StatusOK, "The Page is disconnected", "Disconnected")
		owner.get(list+"/"+id).want(t, http.StatusOK, "Disconnected on").lacks(t, `name="auto_reply"`, "Disconnect this Page")
		if ch, _ := s.Channels.Get(context.Background(), ws, id); ch.Status != channel.Disconnected {
			t.Errorf("status %s after disconnecting", ch.Status)
		}
		owner.post(list+"/"+id+"/disconnect", nil).want(t, http.StatusNotFound)
	})
}

// Issue 3 item 6 through the dashboard: Connect with Facebook goes to the
// Login dialog, the callback leads to choosing Pages, and the chosen ones
// are connected. Cancelling says so kindly.
func TestConnectWithFacebook(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Eve")
		ws := owner.createWorkspace("Eve's Eatery")
		sim := s.Sim.Sim()
		fb := sim.AddUser("Eve Facebook")
		p1, p2 := sim.AddPage(fb.ID, "Eve's Eatery"), sim.AddPage(fb.ID, "Eve's Bakery")

		dialog := owner.get("/w/"+ws+"/channels/messenger/connect").redirectsTo(t, s.Config.Meta.DialogURL)
		du, err := url.Parse(dialog)
		if err != nil {
			t.Fatal(err)
		}
		q := du.Query()
		confirm := url.Values{"client_id": {q.Get("client_id")}, "redirect_uri": {q.Get("redirect_uri")}, "state": {q.Get("state")},
			"scope": {q.Get("scope")}, "user_id": {fb.ID}}
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
			PostForm(du.Scheme+"://"+du.Host+strings.TrimSuffix(du.Path, "/dialog/oauth")+"/dialog/oauth/confirm", confirm)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		back, err := url.Parse(res.Header.Get("Location"))
		if err != nil || back.Query().Get("code") == "" {
			t.Fatalf("the dialog answered %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		// Someone else's browser cannot finish this login.
		stranger, _ := s.signUp(t, "Mallory")
		stranger.get(back.RequestURI()).want(t, http.StatusNotFound, "started from another Parley account")

		choose := owner.get(back.RequestURI()).redirectsTo(t, "/w/"+ws+"/channels/messenger/logins/")
		owner.get(choose).want(t, http.StatusOK, "Choose the Pages to connect", "Eve&#39;s Eatery", "Eve&#39;s Bakery", `value="`+p1.ID+`"`)
		stranger.get(choose).want(t, http.StatusNotFound)
		owner.post(choose, url.Values{}).want(t, http.StatusUnprocessableEntity, "Tick at least one Page")
		owner.post(choose, url.Values{"page": {p1.ID, p2.ID}}).redirectsTo(t, "/w/"+ws+"/channels?connected=2")
		owner.get("/w/"+ws+"/channels?connected=2").want(t, http.StatusOK, "2 Pages are connected", "Eve&#39;s Bakery")
		if cs, _ := s.Channels.List(context.Background(), ws); len(cs) != 2 {
			t.Fatalf("%d channels connected", len(cs))
		}

		owner.get("/channels/messenger/callback?error=access_denied&error_reason=user_denied&state=x").
			want(t, http.StatusOK, "Nothing was connected", "You cancelled")
		owner.get("/channels/messenger/callback").want(t, http.StatusBadRequest, "Start from Channels")
		owner.get("/channels/messenger/callback?code=abc&state=forged").want(t, http.StatusUnprocessableEntity, "not valid")
		s.client(t).get("/channels/messenger/callback?code=abc&state=x").redirectsTo(t, "/login?next=")
	})
}

// Promise P-03: another workspace's channels answer 404, whether asked
// under their own workspace or under the caller's; nothing changes.
func TestOtherWorkspaceChannels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		a, _ := s.signUp(t, "Fox")
		wsA := a.createWorkspace("Fox's")
		id := channelID(t, a.post("/w/"+wsA+"/channels/test-page", nil).redirectsTo(t, "/w/"+wsA+"/channels/"))
		b, _ := s.signUp(t, "Gil")
		wsB := b.createWorkspace("Gil's")
		for _, base := range []string{"/w/" + wsA + "/channels/" + id, "/w/" + wsB + "/channels/" + id} {
			b.get(base).want(t, http.StatusNotFound).lacks(t, "Fox&#39;s")
			b.get(base+"/disconnect").want(t, http.StatusNotFound)
			b.post(base+"/settings", url.Values{"auto_reply": {"pwned"}}).want(t, http.StatusNotFound)
			b.post(base+"/disconnect", nil).want(t, http.StatusNotFound)
			b.post(base+"/test-conversation", nil).want(t, http.StatusNotFound)
		}
		b.get("/w/"+wsA+"/channels").want(t, http.StatusNotFound)
		ch, err := s.Channels.Get(context.Background(), wsA, id)
		if err != nil || ch.Status != channel.Active || ch.AutoReply != "" {
			t.Errorf("a stranger changed the channel: %+v %v", ch, err)
		}
	})
}

// Promise P-07: after the trial nothing new can be connected (not even
// through the Facebook Login link, a GET), but a Page can still be
// disconnected: nothing is held hostage.
func TestChannelsWhenTheTrialEnded(t *testing.T) {
	s := start(t, dbtest.SQLite(t))
	owner, addr := s.signUp(t, "Lin")
	ws := owner.createWorkspace("Lin's")
	list := "/w/" + ws + "/channels"
	id := channelID(t, owner.post(list+"/test-page", nil).redirectsTo(t, list+"/"))
	s.Clock.Advance(15 * 24 * time.Hour)
	owner.post("/login", url.Values{"email": {addr}, "password": {password}}).redirectsTo(t, "/")

	owner.get(list).want(t, http.StatusOK, "Connecting Pages needs a plan").lacks(t, "Connect a test page", `name="access_token"`)
	owner.get(list+"/messenger/connect").want(t, http.StatusPaymentRequired, "This workspace is read-only")
	owner.post(list+"/test-page", nil).want(t, http.StatusPaymentRequired)
	owner.get(list+"/"+id).want(t, http.StatusOK, "read-only").lacks(t, `name="auto_reply"`, "Start a test conversation")
	owner.post(list+"/"+id+"/disconnect", nil).redirectsTo(t, list+"?disconnected=1")
}
