package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var conversationLink = regexp.MustCompile(`/conversations/([0-9a-f-]{36})"`)

// eventually fetches path until the page contains want, failing after a
// generous deadline (a guard against a hang, not a timing assertion).
func (c *client) eventually(path string, want string) *page {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		p := c.get(path)
		if p.Status == http.StatusOK && strings.Contains(p.Body, want) {
			return p
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s never showed %q; last:\n%s", path, want, excerpt(p.Body))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Issue 3 items 7 and 8: a newcomer connects the test page, starts a test
// conversation, answers it and keeps chatting as the customer; the thread
// refreshes through its fragment, and once Messenger's window has closed
// the reply box explains why instead of failing silently (P-16).
func TestConversationPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d, apptest.Started())
		owner, addr := s.signUp(t, "Hana")
		ws := owner.createWorkspace("Hana's Hats")
		viewer, vaddr := s.signUp(t, "Ivo")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		convs := "/w/" + ws + "/conversations"

		owner.get(convs).want(t, http.StatusOK, "Connect a channel first", `href="/w/`+ws+`/channels"`, `aria-current="page">Conversations`)
		channelPage := owner.post("/w/"+ws+"/channels/test-page", nil).redirectsTo(t, "/w/"+ws+"/channels/")
		owner.get(convs).want(t, http.StatusOK, "Nothing needs your team right now")
		owner.post(strings.TrimSuffix(channelPage, "?connected=1")+"/test-conversation", url.Values{"text": {"Do you have sun hats?"}}).
			redirectsTo(t, convs+"?status=all&test=1")
		list := owner.eventually(convs, "Do you have sun hats?")
		list.want(t, http.StatusOK, "waiting for an answer", "Test page")
		id := conversationLink.FindStringSubmatch(list.Body)[1]
		conv := convs + "/" + id

		p := owner.eventually(conv, "Sok Dara") // the profile arrives by a job
		p.want(t, http.StatusOK, "Do you have sun hats?", "message-in", "Reply to Sok Dara", "Replies are open until", "Write as the customer", `hx-trigger="live-update from:body, every 30s"`, `data-live="/w/`)

		// The thread alone, for polling; unchanged, it answers 204.
		frag := owner.get(conv+"/thread").want(t, http.StatusOK, "Do you have sun hats?").lacks(t, "<html", "Reply to")
		v := regexp.MustCompile(`thread\?v=([0-9a-f]+)`).FindStringSubmatch(frag.Body)
		if v == nil {
			t.Fatalf("no version in the fragment:\n%s", frag.Body)
		}
		owner.get(conv+"/thread?v="+v[1]).want(t, http.StatusNoContent)

		owner.post(conv+"/reply", url.Values{"text": {"  "}}).want(t, http.StatusUnprocessableEntity, "reply-error")
		owner.post(conv+"/reply", url.Values{"text": {"Yes! Straw ones, $8."}}).redirectsTo(t, conv)
		owner.get(conv+"/thread?v="+v[1]).want(t, http.StatusOK, "Yes! Straw ones, $8.", "message-out", "Hana")
		owner.eventually(conv, "Sent ✓")

		// Replying took it over (the bot stops); returning it to the bot
		// resumes it, and taking over again stops it.
		owner.get(conv).want(t, http.StatusOK, `data-owner="human">Hana<`, "Return to bot")
		owner.post(conv+"/owner", url.Values{"owner": {"bot"}}).redirectsTo(t, conv)
		owner.get(conv).want(t, http.StatusOK, `data-owner="bot">the bot<`, "Take over")
		owner.post(conv+"/owner", url.Values{"owner": {"human"}}).redirectsTo(t, conv)
		owner.get(conv).want(t, http.StatusOK, `data-owner="human">Hana<`, "Return to bot")
		owner.post(conv+"/owner", url.Values{"owner": {"king"}}).want(t, http.StatusBadRequest)
		owner.post(conv+"/owner", url.Values{"owner": {"bot"}}).redirectsTo(t, conv)

		owner.post(conv+"/as-customer", url.Values{"customer_text": {""}}).want(t, http.StatusUnprocessableEntity, "Write what the customer says.")
		owner.post(conv+"/as-customer", url.Values{"customer_text": {"Great, I'll take two."}}).redirectsTo(t, conv)
		owner.eventually(conv, "Great, I&#39;ll take two.")

		// Viewers read, and may not write.
		viewer.get(conv).want(t, http.StatusOK, "Yes! Straw ones, $8.", "Viewers can read conversations").
			lacks(t, "Reply to", "Write as the customer")
		viewer.post(conv+"/reply", url.Values{"text": {"hi"}}).want(t, http.StatusForbidden)
		viewer.post(conv+"/as-customer", url.Values{"customer_text": {"hi"}}).want(t, http.StatusForbidden)
		viewer.post(conv+"/owner", url.Values{"owner": {"human"}}).want(t, http.StatusForbidden)

		// A week later Messenger allows no reply: the page says so.
		s.Clock.Advance(8 * 24 * time.Hour)
		owner.post("/login", url.Values{"email": {addr}, "password": {password}}) // the session may have ended
		owner.get(conv).want(t, http.StatusOK, "You can't reply right now", "7 days").lacks(t, "Reply to")
		owner.post(conv+"/reply", url.Values{"text": {"Still there?"}}).
			want(t, http.StatusUnprocessableEntity, "Your message was not sent.", "7 days")
		if ms, _ := s.Inbox.Messages(context.Background(), ws, id, 50, ""); len(ms) != 3 {
			t.Errorf("%d messages, want 3: a refused reply was stored", len(ms))
		}
	})
}

// Promise P-03: another workspace's conversations answer 404 on every
// page and action.
func TestOtherWorkspaceConversations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d, apptest.Started())
		a, _ := s.signUp(t, "Jin")
		wsA := a.createWorkspace("Jin's")
		channelPage := a.post("/w/"+wsA+"/channels/test-page", nil).redirectsTo(t, "/w/"+wsA+"/channels/")
		a.post(strings.TrimSuffix(channelPage, "?connected=1")+"/test-conversation", nil).redirectsTo(t, "/w/"+wsA+"/conversations")
		id := conversationLink.FindStringSubmatch(a.eventually("/w/"+wsA+"/conversations", "Are you open today?").Body)[1]

		b, _ := s.signUp(t, "Kai")
		wsB := b.createWorkspace("Kai's")
		for _, base := range []string{"/w/" + wsA + "/conversations/" + id, "/w/" + wsB + "/conversations/" + id} {
			b.get(base).want(t, http.StatusNotFound).lacks(t, "Are you open today?")
			b.get(base+"/thread").want(t, http.StatusNotFound)
			b.post(base+"/reply", url.Values{"text": {"pwned"}}).want(t, http.StatusNotFound)
			b.post(base+"/as-customer", url.Values{"customer_text": {"pwned"}}).want(t, http.StatusNotFound)
			b.post(base+"/owner", url.Values{"owner": {"human"}}).want(t, http.StatusNotFound)
		}
		b.get("/w/"+wsB+"/conversations").want(t, http.StatusOK, "Connect a channel first").lacks(t, "Are you open today?")

		// A poll after the session ended sends the whole page to sign in,
		// rather than the sign-in page into the thread.
		conv := "/w/" + wsA + "/conversations/" + id
		req, err := http.NewRequest("GET", s.URL+conv+"/thread", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Current-URL", s.URL+conv)
		if p := s.client(t).do(req); p.Status != http.StatusNoContent || p.Header.Get("HX-Redirect") != "/login?next="+url.QueryEscape(conv) {
			t.Errorf("an anonymous poll: %d, HX-Redirect %q", p.Status, p.Header.Get("HX-Redirect"))
		}
		if ms, _ := s.Inbox.Messages(context.Background(), wsA, id, 50, ""); len(ms) != 1 {
			t.Errorf("%d messages after a stranger's attempts, want 1", len(ms))
		}
	})
}

// A flow's replies are shown under the flow's name (looked up once per
// page, for every message of that flow); the channel's fixed automatic
// reply, which no flow wrote, stays "Automatic reply".
func TestConversationNamesTheFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d, apptest.Started())
		owner, _ := s.signUp(t, "Lina")
		ws := owner.createWorkspace("Lina's Hats")
		ctx := context.Background()
		doc, err := flow.Parse([]byte(`{"format":1,"name":"Hat questions","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["hats"]}],
			"start":"a","nodes":[{"id":"a","type":"message","text":"Straw ones, $8."}]}`))
		if err != nil {
			t.Fatal(err)
		}
		by := audit.Actor{UserID: "test"}
		f, _, err := s.Flows.Create(ctx, ws, by, doc)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.Flows.Publish(ctx, ws, f.ID, by); err != nil {
			t.Fatal(err)
		}
		list := "/w/" + ws + "/channels"
		page := owner.post(list+"/test-page", nil).redirectsTo(t, list+"/")
		id := channelID(t, page)
		owner.post(list+"/"+id+"/settings", url.Values{"auto_reply": {"We will write back soon."}}).want(t, http.StatusOK, "Saved.")

		convs := "/w/" + ws + "/conversations"
		owner.post(list+"/"+id+"/test-conversation", url.Values{"text": {"Do you have hats?"}}).redirectsTo(t, convs+"?status=all&test=1")
		conv := convs + "/" + conversationLink.FindStringSubmatch(owner.eventually(convs+"?status=all", "Straw ones, $8.").Body)[1]
		owner.post(conv+"/as-customer", url.Values{"customer_text": {"Thanks!"}}).redirectsTo(t, conv)
		p := owner.eventually(conv, "We will write back soon.")
		who := regexp.MustCompile(`<span>([^<]*)</span> · <time>`).FindAllStringSubmatch(p.Body, -1)
		var got []string
		for _, m := range who {
			got = append(got, m[1])
		}
		want := []string{"Sok Dara", "Flow “Hat questions”", "Sok Dara", "Automatic reply"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("the thread's authors are %q, want %q", got, want)
		}
	})
}
