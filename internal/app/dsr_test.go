package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-40, security.md §3.O O-9, end to end through the Meta
// simulator on both databases: a flow answers every "hello". Once a
// contact is restricted, objects, withdraws consent or is marked a minor,
// their next "hello" starts no flow and the Send API records nothing for
// them (nor for a broadcast), while a control contact keeps getting
// answers and a person on the team can still reply to the blocked one.
func TestBlockedContactsGetNoAutomatedMessages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		owner := a.SignUp(t, "dsr-o9")
		ws := owner.CreateWorkspace(t, "Privacy")
		base := "/api/v1/workspaces/" + ws
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		var created struct{ Flow struct{ ID string } }
		owner.Do("POST", base+"/flows", `{"format":1,"name":"Hello","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["hello"]}],
			"start":"hi","nodes":[{"id":"hi","type":"message","text":"Hi from the bot"}]}`).Must(t, 201).JSON(t, &created)
		owner.Do("POST", base+"/flows/"+created.Flow.ID+"/publish", nil).Must(t, 200)

		sim, page := a.Sim.Sim(), ch.ExternalID
		sentTo := func(psid string) int {
			n := 0
			for _, s := range sim.Sent(page) {
				if s.PSID == psid {
					n++
				}
			}
			return n
		}
		waitFor := func(what string, cond func() bool) {
			t.Helper()
			for !cond() {
				if ctx.Err() != nil {
					t.Fatalf("timed out waiting for %s", what)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		say := func(psid, text string) {
			t.Helper()
			if _, status, err := sim.SendText(ctx, page, psid, text); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
		}
		// conversationOf finds psid's conversation and contact once the
		// inbox has stored n of their messages.
		type conv struct{ ID, ContactID string }
		conversationOf := func(psid string, n int) conv {
			t.Helper()
			var c conv
			waitFor("message "+psid, func() bool {
				var rows []struct {
					ID        string `bun:"id"`
					ContactID string `bun:"contact_id"`
					N         int    `bun:"n"`
				}
				err := d.R.NewRaw(`SELECT c.id, c.contact_id, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'in') AS n
					FROM conversations c JOIN contacts p ON p.id = c.contact_id WHERE c.workspace_id = ? AND p.external_id = ?`, ws, psid).Scan(ctx, &rows)
				if err != nil || len(rows) == 0 || rows[0].N < n {
					return false
				}
				c = conv{rows[0].ID, rows[0].ContactID}
				return true
			})
			return c
		}
		outbound := func(c conv) int {
			var n int
			if err := d.R.NewRaw(`SELECT count(*) FROM messages WHERE conversation_id = ? AND direction = 'out'`, c.ID).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		blocks := []struct {
			name, reason string
			method, path string
			body         any
			status       int
		}{
			{"restricted", "restricted", "PATCH", "/privacy", map[string]bool{"restricted": true}, 200},
			{"objected", "objected", "PATCH", "/privacy", map[string]bool{"objected": true}, 200},
			{"minor", "minor", "PATCH", "/privacy", map[string]bool{"minor": true}, 200},
			{"withdrawn", "consent_withdrawn", "POST", "/consents", map[string]string{"state": "withdrawn", "source": "message"}, 201},
		}
		control := sim.AddPerson(page, metasim.Person{FirstName: "Control"})
		people := map[string]string{}
		convs := map[string]conv{}
		for _, b := range blocks {
			people[b.name] = sim.AddPerson(page, metasim.Person{FirstName: b.name})
		}
		// Everybody is answered once, before any flag.
		for _, b := range blocks {
			say(people[b.name], "hello")
		}
		say(control, "hello")
		for _, b := range blocks {
			psid := people[b.name]
			waitFor("the first answer to "+b.name, func() bool { return sentTo(psid) == 1 })
			convs[b.name] = conversationOf(psid, 1)
			owner.Do(b.method, base+"/contacts/"+convs[b.name].ContactID+b.path, b.body).Must(t, b.status)
			var pv struct {
				Automation struct {
					Blocked bool
					Reason  string
				}
			}
			owner.Do("GET", base+"/contacts/"+convs[b.name].ContactID+"/privacy", nil).Must(t, 200).JSON(t, &pv)
			if !pv.Automation.Blocked || pv.Automation.Reason != b.reason {
				t.Fatalf("%s: privacy %+v", b.name, pv)
			}
		}
		waitFor("the control's first answer", func() bool { return sentTo(control) == 1 })

		// Now everybody says hello again.
		for _, b := range blocks {
			say(people[b.name], "hello again")
		}
		say(control, "hello again")
		if _, err := sim.WaitSent(ctx, page, len(blocks)+2); err != nil {
			t.Fatalf("the control's second answer: %v", err)
		}
		for _, b := range blocks {
			c := conversationOf(people[b.name], 2)
			// A flow's reply is queued in the transaction that stores the
			// message: with the message there, none was queued.
			if n := outbound(c); n != 1 {
				t.Errorf("%s: %d messages to them, want only the first answer", b.name, n)
			}
			// A broadcast is refused too.
			_, err := a.Inbox.Reply(ctx, inbox.Author{Type: inbox.SenderBroadcast, ID: "campaign"}, ws, c.ID, channel.Content{Text: "Sale!"})
			if !errors.Is(err, inbox.ErrRestricted) {
				t.Errorf("%s: broadcast %v, want ErrRestricted", b.name, err)
			}
		}
		if err := sim.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			if n := sentTo(people[b.name]); n != 1 {
				t.Errorf("%s: the Send API got %d messages for them, want 1 (before the flag)", b.name, n)
			}
		}
		if n := sentTo(control); n != 2 {
			t.Errorf("the control got %d answers", n)
		}
		// The blocked contacts' second messages started no flow at all
		// (the inbox's privacy check before its Responder), not merely a
		// flow whose reply was refused: the
		// flow was entered by the four first messages and the control's two.
		var stats struct {
			Nodes map[string]struct{ Entered int }
		}
		owner.Do("GET", base+"/flows/"+created.Flow.ID+"/stats", nil).Must(t, 200).JSON(t, &stats)
		if got := stats.Nodes["hi"].Entered; got != len(blocks)+2 {
			t.Errorf("the flow was entered %d times, want %d", got, len(blocks)+2)
		}
		// A person on the team still replies to a blocked contact.
		c := convs["restricted"]
		owner.Do("POST", base+"/conversations/"+c.ID+"/messages", map[string]string{"text": "A person here"}).Must(t, 201)
		waitFor("the agent's reply", func() bool { return sentTo(people["restricted"]) == 2 })
		last := sim.Sent(page)[len(sim.Sent(page))-1]
		var m struct{ Text string }
		if err := json.Unmarshal(last.Message, &m); err != nil || m.Text != "A person here" {
			t.Errorf("last send %s (%v)", last.Message, err)
		}
	})
}
