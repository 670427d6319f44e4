package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/killswitch"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promises P-37 and P-40, end to end on both databases: work a flow
// resumes later (a delay's end) ends without a word for a contact
// restricted meanwhile — no tag, no message — while a control contact's
// flow goes on; and while the kill switch pauses the workspace's
// processing, a delay's end waits (its job snoozes) and the flow goes on
// only after the resume.
func TestResumedFlowWorkHonoursPrivacyAndKillSwitch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		owner := a.SignUp(t, "flowstop")
		ws := owner.CreateWorkspace(t, "Later")
		base := "/api/v1/workspaces/" + ws
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		var created struct{ Flow struct{ ID string } }
		owner.Do("POST", base+"/flows", `{"format":1,"name":"Later","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["later"]}],
			"start":"first","nodes":[
			{"id":"first","type":"message","text":"See you in an hour.","next":"wait"},
			{"id":"wait","type":"delay","duration":"1h","next":"act"},
			{"id":"act","type":"action","actions":[{"type":"add_tag","tag":"followed"}],"next":"again"},
			{"id":"again","type":"message","text":"Hello again."}]}`).Must(t, 201).JSON(t, &created)
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
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := d.R.NewRaw(q, args...).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		say := func(psid, text string) {
			t.Helper()
			if _, status, err := sim.SendText(ctx, page, psid, text); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
		}
		contactOf := func(psid string) string {
			t.Helper()
			var id string
			if err := d.R.NewRaw(`SELECT id FROM contacts WHERE workspace_id = ? AND external_id = ?`, ws, psid).Scan(ctx, &id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		tags := func(contactID string) int {
			return count(`SELECT count(*) FROM contact_tags WHERE contact_id = ?`, contactID)
		}
		// The database is this test's own: every flow job is its.
		delays := func() int { return count(`SELECT count(*) FROM jobs WHERE kind = 'flow.resume'`) }

		blocked := sim.AddPerson(page, metasim.Person{FirstName: "Blocked"})
		control := sim.AddPerson(page, metasim.Person{FirstName: "Control"})
		say(blocked, "later")
		say(control, "later")
		waitUntil(t, time.Minute, "the flows' first messages", func() bool { return sentTo(blocked) == 1 && sentTo(control) == 1 })
		owner.Do("PATCH", base+"/contacts/"+contactOf(blocked)+"/privacy", map[string]bool{"restricted": true}).Must(t, 200)

		// The delay ends: the control's flow goes on, the restricted
		// contact's ends without a word.
		a.Clock.Advance(2 * time.Hour)
		waitUntil(t, time.Minute, "the control's second message", func() bool { return sentTo(control) == 2 })
		waitUntil(t, time.Minute, "the delays' jobs to run", func() bool { return delays() == 0 })
		if err := sim.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		if n := sentTo(blocked); n != 1 {
			t.Errorf("the restricted contact got %d messages, want 1 (before the flag)", n)
		}
		if n := tags(contactOf(blocked)); n != 0 {
			t.Errorf("the flow tagged the restricted contact (%d tags)", n)
		}
		if n := tags(contactOf(control)); n != 1 {
			t.Errorf("the control has %d tags, want 1", n)
		}
		if n := count(`SELECT count(*) FROM flow_sessions s JOIN conversations c ON c.id = s.conversation_id
			WHERE c.contact_id = ? AND s.status = 'ended'`, contactOf(blocked)); n != 1 {
			t.Errorf("the restricted contact's session is not ended")
		}

		// Processing paused: the next delay's end waits for the resume.
		say(control, "later")
		waitUntil(t, time.Minute, "the control's third message", func() bool { return sentTo(control) == 3 })
		host := killswitch.Operator{Host: true}
		if err := a.KillSwitch.Pause(ctx, host, killswitch.Change{WorkspaceID: ws, Processing: true, Reason: "drill"}); err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(2 * time.Hour)
		waitUntil(t, time.Minute, "the delay to be held by the kill switch (or to speak)", func() bool {
			return sentTo(control) > 3 ||
				count(`SELECT count(*) FROM jobs WHERE kind = 'flow.resume' AND last_error LIKE '%kill switch%'`) == 1
		})
		if n := sentTo(control); n != 3 {
			t.Fatalf("the control got %d messages while processing was paused, want 3", n)
		}
		if err := a.KillSwitch.Resume(ctx, host, killswitch.Change{WorkspaceID: ws, Processing: true, Reason: "drill over"}); err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(time.Minute) // the held job's next look, on the app's clock
		waitUntil(t, time.Minute, "the control's fourth message after the resume", func() bool { return sentTo(control) == 4 })
	})
}
