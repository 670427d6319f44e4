package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type conversationOut struct {
	ID, Status, Owner string
	ChannelID         string  `json:"channel_id"`
	AssigneeID        *string `json:"assignee_id"`
	Contact           struct{ ID, Name string }
	LastInboundAt     *time.Time  `json:"last_inbound_at"`
	InteractionCount  int         `json:"interaction_count"`
	LastMessage       *messageOut `json:"last_message"`
	ReplyPolicy       *struct {
		Allowed      bool
		Reason       string
		Explanation  string
		WindowEndsAt *time.Time `json:"window_ends_at"`
	} `json:"reply_policy"`
}

type messageOut struct {
	ID, Direction, Kind, Status string
	Content                     struct{ Text string }
	SenderType                  string `json:"sender_type"`
	SenderID                    string `json:"sender_id"`
	MessagingType               string `json:"messaging_type"`
	Tag                         string
	Error                       *struct{ Code, Message string }
}

// eventually polls cond until it holds, failing the test after a generous
// deadline (a guard against a hang, not a timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not the case after 60s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Promise P-16, issue 3 item 7: an agent's reply goes through the
// messaging policy. Inside 24 hours it is a RESPONSE; up to 7 days a
// HUMAN_AGENT message; after that it is refused with the reason as the
// code and a plain explanation, and nothing is stored. Content that cannot
// be sent is a 422 naming the field.
func TestAgentReplyFollowsThePolicy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "policy")
		ws := owner.CreateWorkspace(t, "Policy")
		s := seedConversation(t, a, ws, "Do you deliver?")
		base := "/api/v1/workspaces/" + ws + "/conversations/" + s.conversationID

		var conv conversationOut
		owner.Do("GET", base, nil).Must(t, 200).JSON(t, &conv)
		if conv.ChannelID != s.channel.ID || conv.Contact.ID != s.contactID || conv.Status != "open" || conv.Owner != "bot" ||
			conv.LastInboundAt == nil || conv.InteractionCount != 1 || conv.ReplyPolicy == nil || !conv.ReplyPolicy.Allowed {
			t.Fatalf("conversation = %+v", conv)
		}

		for _, tc := range []struct {
			body        any
			status      int
			code, field string
		}{
			{map[string]string{"text": ""}, 422, "invalid_content", "text"},
			{map[string]string{"text": " \n "}, 422, "invalid_content", "text"},
			{map[string]any{"text": 5}, 400, "wrong_type", "text"},
			{map[string]string{"text": "hi", "tag": "HUMAN_AGENT"}, 400, "unknown_field", "tag"},
		} {
			res := owner.Do("POST", base+"/messages", tc.body)
			var e struct {
				Error struct{ Code, Field, Message string }
			}
			res.JSON(t, &e)
			if res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%v: %d %s", tc.body, res.Status, res.Body)
			}
		}
		if n := countRows(t, d, "messages"); n != 1 {
			t.Fatalf("%d messages after refused replies", n)
		}

		var sent struct{ Messages []messageOut }
		owner.Do("POST", base+"/messages", map[string]string{"text": "Yes, anywhere in Phnom Penh."}).Must(t, 201).JSON(t, &sent)
		if len(sent.Messages) != 1 || sent.Messages[0].Direction != "out" || sent.Messages[0].SenderType != "agent" ||
			sent.Messages[0].SenderID != owner.ID || sent.Messages[0].MessagingType != "RESPONSE" || sent.Messages[0].Content.Text != "Yes, anywhere in Phnom Penh." {
			t.Fatalf("reply = %+v", sent)
		}

		// A day later only a person may write, with the HUMAN_AGENT tag.
		a.Clock.Advance(25 * time.Hour)
		owner.Login(t) // the session has ended meanwhile
		owner.Do("POST", base+"/messages", map[string]string{"text": "Following up on your order."}).Must(t, 201).JSON(t, &sent)
		if sent.Messages[0].Tag != "HUMAN_AGENT" {
			t.Errorf("a reply after 25 hours: %+v", sent.Messages[0])
		}
		// After 7 days nobody may.
		a.Clock.Advance(7 * 24 * time.Hour)
		owner.Login(t)
		res := owner.Do("POST", base+"/messages", map[string]string{"text": "Hello again?"}).Must(t, 422)
		var e struct {
			Error struct{ Code, Message string }
		}
		res.JSON(t, &e)
		if e.Error.Code != "human_window_closed" || !strings.Contains(e.Error.Message, "7 days") {
			t.Errorf("refusal = %s", res.Body)
		}
		if n := countRows(t, d, "messages"); n != 3 {
			t.Errorf("%d messages, want 3: a refused reply was stored", n)
		}
		owner.Do("GET", base, nil).Must(t, 200).JSON(t, &conv)
		if conv.ReplyPolicy.Allowed || conv.ReplyPolicy.Reason != "human_window_closed" || conv.ReplyPolicy.Explanation == "" {
			t.Errorf("reply policy after 8 days = %+v", conv.ReplyPolicy)
		}

		// Messages come newest first and page with next_before.
		var page struct {
			Messages   []messageOut
			NextBefore string `json:"next_before"`
		}
		owner.Do("GET", base+"/messages?limit=2", nil).Must(t, 200).JSON(t, &page)
		if len(page.Messages) != 2 || page.Messages[0].Content.Text != "Following up on your order." || page.NextBefore != page.Messages[1].ID {
			t.Fatalf("first page = %+v", page)
		}
		owner.Do("GET", base+"/messages?limit=2&before="+page.NextBefore, nil).Must(t, 200).JSON(t, &page)
		if len(page.Messages) != 1 || page.Messages[0].Direction != "in" || page.NextBefore != "" {
			t.Fatalf("second page = %+v", page)
		}
		for _, q := range []string{"?limit=0", "?limit=101", "?limit=ten"} {
			if code := owner.Do("GET", base+"/messages"+q, nil).Must(t, 400).ErrorCode(); code != "invalid_limit" {
				t.Errorf("%s: %s", q, code)
			}
		}
	})
}

// A reply through an API key is an integration's automated message (the
// message names the key): it does not take the conversation over, and
// while a person owns the conversation it is refused like every other
// automated sender (promise P-24: nothing bypasses a takeover).
func TestAPIKeyReply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "keys")
		ws := owner.CreateWorkspace(t, "Keys")
		s := seedConversation(t, a, ws, "hello")
		var k struct {
			APIKey struct{ ID string } `json:"api_key"`
			Secret string
		}
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/api-keys", map[string]string{"name": "crm", "role": "agent"}).Must(t, 201).JSON(t, &k)
		c := a.Client(t)
		c.Header.Set("Authorization", "Bearer "+k.Secret)
		base := "/api/v1/workspaces/" + ws + "/conversations/" + s.conversationID
		var sent struct{ Messages []messageOut }
		c.Do("POST", base+"/messages", map[string]string{"text": "Your order shipped"}).Must(t, 201).JSON(t, &sent)
		if sent.Messages[0].SenderType != "integration" || sent.Messages[0].SenderID != k.APIKey.ID {
			t.Errorf("reply by key = %+v", sent.Messages[0])
		}
		var conv conversationOut
		owner.Do("GET", base, nil).Must(t, 200).JSON(t, &conv)
		if conv.Owner != "bot" {
			t.Errorf("a key's reply took the conversation over: owner %s", conv.Owner)
		}
		owner.Do("PATCH", base, map[string]string{"owner": "human"}).Must(t, 200)
		if code := c.Do("POST", base+"/messages", map[string]string{"text": "Buy more!"}).Must(t, 409).ErrorCode(); code != "human_owned" {
			t.Errorf("key reply while a person owns it: %s", code)
		}
		var page struct{ Messages []messageOut }
		owner.Do("GET", base+"/messages", nil).Must(t, 200).JSON(t, &page)
		for _, m := range page.Messages {
			if m.Content.Text == "Buy more!" {
				t.Errorf("a refused key reply was stored: %+v", m)
			}
		}
	})
}

// Conversations are listed most recently active first, filtered by status
// and channel, paged; owner and status change through PATCH, and a bad
// value changes nothing.
func TestConversationListAndChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "lists")
		ws := owner.CreateWorkspace(t, "Lists")
		first := seedConversation(t, a, ws, "first")
		a.Clock.Advance(time.Minute)
		second := seedConversation(t, a, ws, "second")
		base := "/api/v1/workspaces/" + ws + "/conversations"

		var list struct {
			Conversations []conversationOut
			NextBefore    string `json:"next_before"`
		}
		owner.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
		if len(list.Conversations) != 2 || list.Conversations[0].ID != second.conversationID || list.Conversations[0].LastMessage == nil ||
			list.Conversations[0].LastMessage.Content.Text != "second" || list.NextBefore != "" {
			t.Fatalf("list = %+v", list)
		}
		owner.Do("GET", base+"?limit=1", nil).Must(t, 200).JSON(t, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].ID != second.conversationID || list.NextBefore == "" {
			t.Fatalf("page 1 = %+v", list)
		}
		owner.Do("GET", base+"?limit=1&before="+list.NextBefore, nil).Must(t, 200).JSON(t, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].ID != first.conversationID {
			t.Fatalf("page 2 = %+v", list)
		}
		owner.Do("GET", base+"?channel_id="+first.channel.ID, nil).Must(t, 200).JSON(t, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].ID != first.conversationID {
			t.Fatalf("by channel = %+v", list)
		}

		one := base + "/" + first.conversationID
		for _, tc := range []struct {
			body   any
			status int
			code   string
		}{
			{map[string]string{}, 400, "nothing_to_change"},
			{map[string]string{"owner": "king"}, 422, "invalid_owner"},
			{map[string]string{"owner": "human", "status": "archived"}, 422, "invalid_status"},
			{map[string]any{"owner": nil, "status": nil}, 400, "nothing_to_change"},
		} {
			if code := owner.Do("PATCH", one, tc.body).Must(t, tc.status).ErrorCode(); code != tc.code {
				t.Errorf("%v: code %q, want %q", tc.body, code, tc.code)
			}
		}
		var conv conversationOut
		owner.Do("GET", one, nil).Must(t, 200).JSON(t, &conv)
		if conv.Owner != "bot" || conv.Status != "open" {
			t.Fatalf("refused changes changed the conversation: %+v", conv)
		}
		owner.Do("PATCH", one, map[string]string{"owner": "human", "status": "resolved"}).Must(t, 200).JSON(t, &conv)
		if conv.Owner != "human" || conv.Status != "resolved" {
			t.Fatalf("after PATCH: %+v", conv)
		}
		owner.Do("GET", base+"?status=open", nil).Must(t, 200).JSON(t, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].ID != second.conversationID {
			t.Fatalf("open = %+v", list)
		}
		owner.Do("GET", base+"?status=resolved", nil).Must(t, 200).JSON(t, &list)
		if len(list.Conversations) != 1 || list.Conversations[0].ID != first.conversationID {
			t.Fatalf("closed = %+v", list)
		}
		if code := owner.Do("GET", base+"?status=archived", nil).Must(t, 400).ErrorCode(); code != "invalid_status" {
			t.Errorf("bad status filter: %q", code)
		}

		var ct struct {
			ID, Locale string
			ChannelID  string `json:"channel_id"`
			PSID       string `json:"psid"`
			FirstName  string `json:"first_name"`
		}
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/"+first.contactID, nil).Must(t, 200).JSON(t, &ct)
		if ct.ID != first.contactID || ct.ChannelID != first.channel.ID || ct.PSID != first.psid {
			t.Errorf("contact = %+v", ct)
		}
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/contacts/no-such-contact", nil).Must(t, 404)
	})
}

// Issue 3 items 7 and 8 end to end, on both databases: a person writes to
// a connected page through a signed webhook from the simulator; the
// conversation, the contact's profile and the message appear in the API;
// an agent's reply reaches the simulator's Send API and its delivery comes
// back.
func TestReplyReachesMessenger(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		owner := a.SignUp(t, "e2e")
		ws := owner.CreateWorkspace(t, "End to End")
		var c channelOut
		pg := a.Sim.Sim().AddPage(a.Sim.Sim().AddUser("Owner").ID, "E2E Page")
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/channels", map[string]string{"type": "messenger", "page_id": pg.ID, "access_token": pg.Token}).Must(t, 201).JSON(t, &c)
		ch, err := a.Channels.Get(context.Background(), ws, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Sim.WriteAsCustomer(context.Background(), ch, "", "សួស្តី! Are you open?"); err != nil {
			t.Fatal(err)
		}
		base := "/api/v1/workspaces/" + ws + "/conversations"
		var list struct{ Conversations []conversationOut }
		eventually(t, "the conversation appears", func() bool {
			owner.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
			return len(list.Conversations) == 1
		})
		conv := list.Conversations[0]
		eventually(t, "the contact's profile is fetched", func() bool {
			owner.Do("GET", base+"/"+conv.ID, nil).Must(t, 200).JSON(t, &conv)
			return conv.Contact.Name != ""
		})
		var msgs struct{ Messages []messageOut }
		owner.Do("GET", base+"/"+conv.ID+"/messages", nil).Must(t, 200).JSON(t, &msgs)
		if len(msgs.Messages) != 1 || msgs.Messages[0].Content.Text != "សួស្តី! Are you open?" || msgs.Messages[0].Direction != "in" {
			t.Fatalf("messages = %+v", msgs)
		}

		owner.Do("POST", base+"/"+conv.ID+"/messages", map[string]string{"text": "Yes, until 8 pm."}).Must(t, 201)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sent, err := a.Sim.Sim().WaitSent(ctx, pg.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(sent[0].Message), "Yes, until 8 pm.") || sent[0].MessagingType != "RESPONSE" {
			t.Errorf("the simulator received %+v", sent[0])
		}
		// The person's phone confirms delivery, as Messenger would.
		if _, status, err := a.Sim.Sim().Delivered(ctx, pg.ID, sent[0].PSID, []string{sent[0].MID}, sent[0].At); err != nil || status != 200 {
			t.Fatalf("delivery webhook: %d %v", status, err)
		}
		eventually(t, "the reply is delivered", func() bool {
			owner.Do("GET", base+"/"+conv.ID+"/messages", nil).Must(t, 200).JSON(t, &msgs)
			return len(msgs.Messages) == 2 && (msgs.Messages[0].Status == "delivered" || msgs.Messages[0].Status == "read")
		})
	})
}
