package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5 item 2 end to end through the Meta simulator, on both
// databases: a customer writes and a flow answers; an agent opens the
// conversation (mark_seen reaches Messenger), takes it over through the
// API and types (typing_on reaches Messenger); the flow stays silent for
// the customer's next message while the agent's reply goes out; "return to
// bot" makes the flow answer again. With a return-to-bot silence set, an
// agent's reply hands the conversation back on its own once the team has
// been silent that long, and the flow answers again.
func TestTakeoverSilencesTheBotUntilReturned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		owner := a.SignUp(t, "takeover")
		ws := owner.CreateWorkspace(t, "Takeover")
		agent := a.SignUp(t, "takeover-agent")
		a.Join(t, owner, ws, agent, "agent")
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		var flow struct{ Flow struct{ ID string } }
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/flows", `{"format":1,"name":"Prices",
			"triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["price"]}],
			"start":"p","nodes":[{"id":"p","type":"message","text":"From $10."}]}`).Must(t, 201).JSON(t, &flow)
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/flows/"+flow.Flow.ID+"/publish", nil).Must(t, 200)

		sim := a.Sim.Sim()
		page := ch.ExternalID
		psid := sim.AddPerson(page, metasim.Person{FirstName: "Sok", LastName: "Dara"})
		say := func(text string) {
			t.Helper()
			if _, status, err := sim.SendText(ctx, page, psid, text); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
		}
		sentText := func(n int) string {
			t.Helper()
			sent, err := sim.WaitSent(ctx, page, n)
			if err != nil {
				t.Fatalf("waiting for message %d: %v", n, err)
			}
			var m struct{ Text string }
			if err := json.Unmarshal(sent[n-1].Message, &m); err != nil {
				t.Fatal(err)
			}
			return m.Text
		}
		base := "/api/v1/workspaces/" + ws + "/conversations"

		say("what's the price?")
		if got := sentText(1); got != "From $10." {
			t.Fatalf("the flow's answer: %q", got)
		}
		var list inboxPage
		eventually(t, "the conversation is listed", func() bool {
			owner.Do("GET", base, nil).Must(t, 200).JSON(t, &list)
			return len(list.Conversations) == 1
		})
		one := base + "/" + list.Conversations[0].ID

		// newestAfter waits until the person's message text is on the
		// timeline and returns what came after it. The flow answers inside
		// the transaction that stores the message, so a reply it queued
		// would be there already.
		newestAfter := func(text string) []string {
			t.Helper()
			var after []string
			eventually(t, "the message "+text+" is stored", func() bool {
				var tl timelineOut
				agent.Do("GET", one+"/timeline", nil).Must(t, 200).JSON(t, &tl)
				after = nil
				for _, it := range tl.Items {
					if it.Type == "message" && it.Message.Direction == "in" && it.Message.Content.Text == text {
						return true
					}
					if it.Type == "message" {
						after = append(after, it.Message.Direction+":"+it.Message.Content.Text)
					}
				}
				return false
			})
			return after
		}

		// The agent opens it: the person sees it seen.
		var c inboxConv
		agent.Do("POST", one+"/seen", nil).Must(t, 200).JSON(t, &c)
		if c.Unread {
			t.Errorf("unread after seen: %+v", c)
		}
		eventually(t, "mark_seen reaches Messenger", func() bool { return hasAction(sim, page, "mark_seen") })

		// Takeover through the API; the agent types, Messenger shows it.
		agent.Do("PATCH", one, map[string]any{"owner": "human"}).Must(t, 200).JSON(t, &c)
		if c.Owner != "human" || c.AssigneeID != nil {
			t.Fatalf("after the takeover: %+v", c)
		}
		agent.Do("POST", one+"/typing", map[string]any{"on": true}).Must(t, 204)
		if !hasAction(sim, page, "typing_on") {
			t.Error("typing_on did not reach Messenger")
		}

		say("price again, please?")
		if after := newestAfter("price again, please?"); len(after) != 0 {
			t.Fatalf("something answered while a person owns the conversation: %v", after)
		}
		agent.Do("POST", one+"/messages", map[string]string{"text": "Let me find you a discount."}).Must(t, 201)
		if got := sentText(2); got != "Let me find you a discount." {
			t.Fatalf("the agent's reply: %q", got)
		}
		say("any price news?")
		if after := newestAfter("any price news?"); len(after) != 0 {
			t.Fatalf("something answered after the agent's reply: %v", after)
		}
		agent.Do("GET", one, nil).Must(t, 200).JSON(t, &c)
		if c.AssigneeID == nil || *c.AssigneeID != agent.ID {
			t.Errorf("the agent's reply did not assign them: %+v", c)
		}
		if n := len(sim.Sent(page)); n != 2 {
			t.Fatalf("%d messages sent, want the flow's first and the agent's", n)
		}

		// Return to bot by hand: the flow answers again.
		agent.Do("PATCH", one, map[string]any{"owner": "bot"}).Must(t, 200).JSON(t, &c)
		if c.Owner != "bot" {
			t.Fatalf("after return to bot: %+v", c)
		}
		say("price for two?")
		if got := sentText(3); got != "From $10." {
			t.Fatalf("the flow after return to bot: %q", got)
		}

		// Return to bot after silence: one minute without the team.
		owner.Do("PUT", "/api/v1/workspaces/"+ws+"/inbox-settings", map[string]any{"return_to_bot_after_minutes": 1}).Must(t, 200)
		agent.Do("POST", one+"/messages", map[string]string{"text": "I'm here if you need me."}).Must(t, 201)
		if got := sentText(4); got != "I'm here if you need me." {
			t.Fatalf("the agent's second reply: %q", got)
		}
		agent.Do("GET", one, nil).Must(t, 200).JSON(t, &c)
		if c.Owner != "human" {
			t.Fatalf("a member's reply did not take it over: %+v", c)
		}
		a.Clock.Advance(2 * time.Minute)
		eventually(t, "the silent conversation returns to the bot", func() bool {
			agent.Do("GET", one, nil).Must(t, 200).JSON(t, &c)
			return c.Owner == "bot"
		})
		say("last price?")
		if got := sentText(5); got != "From $10." {
			t.Fatalf("the flow after the silence: %q", got)
		}

		// Every change of owner is on the timeline, with its reason.
		var tl timelineOut
		agent.Do("GET", one+"/timeline?limit=100", nil).Must(t, 200).JSON(t, &tl)
		var reasons []string
		for _, it := range tl.Items {
			if it.Type == "event" && it.Event.Kind == "owner" {
				reasons = append(reasons, it.Event.Data["reason"])
			}
		}
		slices.Reverse(reasons)
		if want := []string{"takeover", "return_to_bot", "agent_reply", "silence_timeout"}; !slices.Equal(reasons, want) {
			t.Errorf("owner changes %v, want %v", reasons, want)
		}
	})
}

// hasAction reports whether the simulator received the sender action for
// the page.
func hasAction(sim *metasim.Sim, page, action string) bool {
	for _, a := range sim.Actions(page) {
		if a.Action == action {
			return true
		}
	}
	return false
}
