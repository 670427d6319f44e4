package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/killswitch"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Promise P-37, security.md §3.P P-2, P-3 and P-5, end to end through the
// Meta simulator on both databases: with one workspace's outbound sending
// and processing paused, Meta's webhooks are still answered 200 and
// stored, nothing of that workspace is processed, agents' replies queue up
// and the Send API is not called once; on resume the backlog is applied
// and sent in order and nothing is lost.
func TestKillSwitchHoldsAndDrainsInOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		owner := a.SignUp(t, "killswitch")
		ws := owner.CreateWorkspace(t, "Shop")
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		sim := a.Sim.Sim()
		page := ch.ExternalID
		psid := sim.AddPerson(page, metasim.Person{FirstName: "Sok", LastName: "Dara"})
		say := func(text string) string {
			t.Helper()
			mid, status, err := sim.SendText(ctx, page, psid, text)
			if err != nil || status != 200 {
				t.Fatalf("webhook for %q: %d %v (want 200 whatever is paused)", text, status, err)
			}
			return mid
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := d.R.NewRaw(q, args...).Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		inbound := func() int {
			return count(`SELECT count(*) FROM messages WHERE workspace_id = ? AND direction = 'in'`, ws)
		}
		sendCalls := func() int {
			n := 0
			for _, c := range sim.Calls() {
				if c.Method == "POST" && strings.HasSuffix(c.Path, "/messages") {
					n++
				}
			}
			return n
		}
		mids := []string{say("hello")}
		waitUntil(t, time.Minute, "the first message to be stored", func() bool { return inbound() == 1 })
		if n := sendCalls(); n != 0 {
			t.Fatalf("%d Send API calls before any reply", n)
		}
		var conv string
		if err := d.R.NewRaw(`SELECT id FROM conversations WHERE workspace_id = ?`, ws).Scan(ctx, &conv); err != nil {
			t.Fatal(err)
		}

		host := killswitch.Operator{Host: true}
		if err := a.KillSwitch.Pause(ctx, host, killswitch.Change{WorkspaceID: ws, Outbound: true, Processing: true, Reason: "drill"}); err != nil {
			t.Fatal(err)
		}
		// P-3: acknowledged and stored, not processed.
		for _, text := range []string{"one", "two", "three"} {
			mids = append(mids, say(text))
		}
		waitUntil(t, time.Minute, "the deliveries to be held for the workspace", func() bool {
			return count(`SELECT count(*) FROM webhook_deliveries WHERE state = 'pending' AND held_for = ?`, ws) == 3
		})
		if n := inbound(); n != 1 {
			t.Fatalf("%d inbound messages stored while processing was paused, want 1", n)
		}
		// P-2: replies queue up; the Send API hears nothing.
		replies := []string{"first answer", "second answer", "third answer"}
		for _, text := range replies {
			owner.Do("POST", "/api/v1/workspaces/"+ws+"/conversations/"+conv+"/messages", map[string]string{"text": text}).Must(t, 201)
		}
		waitUntil(t, time.Minute, "the send queue to hold the replies back", func() bool {
			return count(`SELECT count(*) FROM jobs WHERE kind = 'inbox.send' AND last_error LIKE '%kill switch%'`) >= 1
		})
		if n := count(`SELECT count(*) FROM messages WHERE workspace_id = ? AND direction = 'out' AND status = 'queued'`, ws); n != 3 {
			t.Errorf("%d replies queued, want 3", n)
		}
		if n := sendCalls(); n != 0 {
			t.Fatalf("%d Send API calls while outbound was paused, want 0", n)
		}

		// P-5: resume drains both backlogs, in order, losing nothing.
		if err := a.KillSwitch.Resume(ctx, host, killswitch.Change{WorkspaceID: ws, Outbound: true, Processing: true, Reason: "drill over"}); err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(time.Minute) // the held sends' next look, on the app's clock
		sent, err := sim.WaitSent(ctx, page, 3)
		if err != nil {
			t.Fatalf("waiting for the replies: %v (sent %d)", err, len(sent))
		}
		for i, s := range sent {
			var m struct{ Text string }
			if err := json.Unmarshal(s.Message, &m); err != nil {
				t.Fatal(err)
			}
			if m.Text != replies[i] {
				t.Errorf("sent %d = %q, want %q", i, m.Text, replies[i])
			}
		}
		waitUntil(t, time.Minute, "the held messages to be processed", func() bool { return inbound() == 4 })
		var got []string
		if err := d.R.NewRaw(`SELECT external_id FROM messages WHERE workspace_id = ? AND direction = 'in' ORDER BY id`, ws).Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, " ") != strings.Join(mids, " ") {
			t.Errorf("inbound stored in order %v, want %v", got, mids)
		}
		// The simulator's echoes of the replies arrive meanwhile: wait for
		// those too.
		waitUntil(t, time.Minute, "every delivery to be processed", func() bool {
			return count(`SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'`) == 0
		})
		if n := sendCalls(); n != 3 {
			t.Errorf("%d Send API calls, want exactly 3", n)
		}
	})
}

// The operator commands: parley pause, status and resume on the
// database the environment names, refusing bad input.
func TestKillSwitchCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PARLEY_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := app.Run(context.Background(), args, getenv, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := run("migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	if code, out, _ := run("status"); code != 0 || !strings.Contains(out, "Nothing is paused") {
		t.Fatalf("status: %d %q", code, out)
	}
	if code, _, stderr := run("pause", "--outbound"); code != 1 || !strings.Contains(stderr, "--reason") {
		t.Errorf("pause without a reason: %d %q", code, stderr)
	}
	if code, _, stderr := run("pause", "--workspace", "nope", "--reason", "x"); code != 1 || !strings.Contains(stderr, "no such workspace") {
		t.Errorf("pause of an unknown workspace: %d %q", code, stderr)
	}
	if code, _, _ := run("pause", "extra"); code != 2 {
		t.Errorf("pause with an argument: %d, want 2", code)
	}
	code, out, stderr := run("pause", "--outbound", "--reason", "spam wave")
	if code != 0 || !strings.Contains(out, "every workspace") || !strings.Contains(out, "spam wave") {
		t.Fatalf("pause: %d %q %q", code, out, stderr)
	}
	if !strings.Contains(out, "paused") || !strings.Contains(out, "running") {
		t.Errorf("pause printed %q, want outbound paused and processing running", out)
	}
	if code, out, _ := run("resume", "--reason", "over"); code != 0 || !strings.Contains(out, "Nothing is paused") {
		t.Errorf("resume: %d %q", code, out)
	}
}
