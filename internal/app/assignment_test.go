package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5 item 3 end to end through the Meta simulator, on both
// databases: a flow hands each conversation to a team; the conversation
// goes round-robin to the team's online agents (an agent who went busy,
// and the owner who is not in the team, get none), and once everyone is
// at capacity a new conversation waits unassigned.
func TestHandoffAssignsRoundRobin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		if a.Sim == nil {
			t.Fatal("the simulator is off")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		owner := a.SignUp(t, "rr")
		ws := owner.CreateWorkspace(t, "Round robin")
		base := "/api/v1/workspaces/" + ws
		ag1, ag2, ag3 := a.SignUp(t, "rr-one"), a.SignUp(t, "rr-two"), a.SignUp(t, "rr-busy")
		for _, u := range []*apptest.User{ag1, ag2, ag3} {
			a.Join(t, owner, ws, u, "agent")
		}
		var tm struct{ Team struct{ ID string } }
		owner.Do("POST", base+"/teams", map[string]any{"name": "Support", "auto_assign": true}).Must(t, 201).JSON(t, &tm)
		for _, u := range []*apptest.User{ag1, ag2, ag3} {
			owner.Do("PUT", base+"/teams/"+tm.Team.ID+"/members/"+u.ID, nil).Must(t, 200)
		}
		// Setting a status counts as being seen: ag1 and ag2 are online,
		// ag3 chose busy, the owner (online but in no team) is not asked.
		ag1.Do("PUT", base+"/me/availability", map[string]string{"status": "online"}).Must(t, 200)
		ag2.Do("PUT", base+"/me/availability", map[string]string{"status": "online"}).Must(t, 200)
		ag3.Do("PUT", base+"/me/availability", map[string]string{"status": "busy"}).Must(t, 200)
		owner.Do("PUT", base+"/me/availability", map[string]string{"status": "online"}).Must(t, 200)

		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf(`{"format":1,"name":"Help","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["help"]}],
			"start":"hi","nodes":[
			{"id":"hi","type":"message","text":"Someone from our team will answer.","next":"human"},
			{"id":"human","type":"handoff","team":%q}]}`, tm.Team.ID)
		var created struct{ Flow struct{ ID string } }
		owner.Do("POST", base+"/flows", doc).Must(t, 201).JSON(t, &created)
		owner.Do("POST", base+"/flows/"+created.Flow.ID+"/publish", nil).Must(t, 200)

		sim := a.Sim.Sim()
		page := ch.ExternalID
		// handOff has a new person ask for help and returns their
		// conversation once people own it (the assignment, if any, is
		// made in the same transaction as the handoff).
		n := 0
		handOff := func() inbox.Conversation {
			t.Helper()
			n++
			psid := sim.AddPerson(page, metasim.Person{FirstName: fmt.Sprintf("Customer%d", n)})
			if _, status, err := sim.SendText(ctx, page, psid, "help please"); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
			if _, err := sim.WaitSent(ctx, page, n); err != nil {
				t.Fatalf("the flow did not answer customer %d: %v", n, err)
			}
			for {
				list, err := a.Inbox.Conversations(ctx, ws, inbox.ListOptions{ChannelID: ch.ID})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range list {
					if c.Owner == inbox.OwnerHuman && strings.HasPrefix(c.ContactName, fmt.Sprintf("Customer%d", n)) {
						return c.Conversation
					}
				}
				select {
				case <-ctx.Done():
					t.Fatalf("conversation %d was never handed to people", n)
				case <-time.After(20 * time.Millisecond):
				}
			}
		}

		var got []string
		for range 3 {
			c := handOff()
			if c.TeamID != tm.Team.ID {
				t.Errorf("conversation %s went to team %q, want the flow's", c.ID, c.TeamID)
			}
			got = append(got, c.AssigneeID)
		}
		online := map[string]bool{ag1.ID: true, ag2.ID: true}
		if !online[got[0]] || !online[got[1]] || got[0] == got[1] || got[2] != got[0] {
			t.Errorf("assignees %v: want round-robin between %s and %s only", got, ag1.ID, ag2.ID)
		}

		// Everyone at capacity (one each, and the first has two): the next
		// conversation waits for someone to free up.
		owner.Do("PUT", base+"/assignment-settings", map[string]any{"default_capacity": 1, "auto_assign": false}).Must(t, 200)
		if c := handOff(); c.AssigneeID != "" {
			t.Errorf("assigned to %s with everyone at capacity", c.AssigneeID)
		}
		var agents struct {
			Agents []struct {
				UserID string `json:"user_id"`
				Load   int
			}
		}
		owner.Do("GET", base+"/agents", nil).Must(t, 200).JSON(t, &agents)
		loads := map[string]int{}
		for _, ag := range agents.Agents {
			loads[ag.UserID] = ag.Load
		}
		if loads[got[0]] != 2 || loads[got[1]] != 1 || loads[ag3.ID] != 0 || loads[owner.ID] != 0 {
			t.Errorf("loads %v", loads)
		}
	})
}
