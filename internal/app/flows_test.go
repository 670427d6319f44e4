package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow/run"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// sentMessage is the part of a Send API message these tests read.
type sentMessage struct {
	Text         string `json:"text"`
	QuickReplies []struct {
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"quick_replies"`
}

// Issue 4, "Done when": flows run end to end through the Meta simulator,
// on both databases. A flow created and published through the API answers
// a simulated Messenger user who writes its keyword (signed webhook,
// intake, ingest, the runner, the policy, the Send API); the user taps a
// quick reply and answers a question, and the flow goes on; the statistics
// count it all.
func TestFlowAnswersMessengerUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		if a.Sim == nil {
			t.Fatal("the simulator is off")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		owner := a.SignUp(t, "flows")
		ws := owner.CreateWorkspace(t, "Flows")
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/fields", map[string]string{"key": "email", "label": "E-mail", "type": "email"}).Must(t, 201)
		doc := `{"format":1,"name":"Welcome","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["price"]}],
			"start":"hi","nodes":[
			{"id":"hi","type":"message","text":"Hi {{contact.first_name|there}}! Prices or a quote?",
			 "quick_replies":[{"title":"Prices","next":"prices"},{"title":"Quote","next":"ask"}]},
			{"id":"prices","type":"message","text":"From $10. Want a quote?","quick_replies":[{"title":"Quote","next":"ask"}]},
			{"id":"ask","type":"question","text":"Your e-mail?","answer":"email","field":"email","next":"thanks"},
			{"id":"thanks","type":"message","text":"Thanks, we will write to {{contact.field.email}}."}]}`
		var created struct{ Flow struct{ ID string } }
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/flows", doc).Must(t, 201).JSON(t, &created)
		flowID := created.Flow.ID
		owner.Do("POST", "/api/v1/workspaces/"+ws+"/flows/"+flowID+"/publish", nil).Must(t, 200)

		sim := a.Sim.Sim()
		page := ch.ExternalID
		psid := sim.AddPerson(page, metasim.Person{FirstName: "Sok", LastName: "Dara", Locale: "km_KH"})
		say := func(text string, opts ...metasim.EventOption) {
			t.Helper()
			if _, status, err := sim.SendText(ctx, page, psid, text, opts...); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
		}
		// wait returns the n-th message the page sent.
		wait := func(n int) sentMessage {
			t.Helper()
			sent, err := sim.WaitSent(ctx, page, n)
			if err != nil {
				t.Fatalf("waiting for message %d: %v (sent: %d)", n, err, len(sent))
			}
			var m sentMessage
			if err := json.Unmarshal(sent[n-1].Message, &m); err != nil {
				t.Fatal(err)
			}
			if sent[n-1].PSID != psid || sent[n-1].MessagingType != "RESPONSE" {
				t.Errorf("message %d went to %s as %s", n, sent[n-1].PSID, sent[n-1].MessagingType)
			}
			return m
		}

		say("what is the price?")
		hi := wait(1)
		// The first reply already knows the new contact's name (the flow
		// waited for the profile fetched after the message was stored).
		if hi.Text != "Hi Sok! Prices or a quote?" || len(hi.QuickReplies) != 2 || hi.QuickReplies[0].Title != "Prices" {
			t.Fatalf("first reply %+v", hi)
		}
		say("Prices", metasim.QuickReply(hi.QuickReplies[0].Payload))
		prices := wait(2)
		if prices.Text != "From $10. Want a quote?" {
			t.Fatalf("after the tap: %+v", prices)
		}
		// A tap on the first message's other chip, later, still leads on.
		say("Quote", metasim.QuickReply(hi.QuickReplies[1].Payload))
		if m := wait(3); m.Text != "Your e-mail?" {
			t.Fatalf("question %+v", m)
		}
		say("not an address")
		if m := wait(4); m.Text != "Your e-mail?" {
			t.Fatalf("retry %+v", m)
		}
		say("sok@example.com")
		if m := wait(5); m.Text != "Thanks, we will write to sok@example.com." {
			t.Fatalf("thanks %+v", m)
		}

		var stats struct {
			Version int
			Nodes   map[string]struct{ Entered, Completed, Dropped int }
			Errors  []any
		}
		owner.Do("GET", "/api/v1/workspaces/"+ws+"/flows/"+flowID+"/stats", nil).Must(t, 200).JSON(t, &stats)
		if stats.Version != 1 || stats.Nodes["hi"].Entered != 1 || stats.Nodes["ask"].Entered != 1 || stats.Nodes["ask"].Completed != 1 ||
			stats.Nodes["thanks"].Completed != 1 || len(stats.Errors) != 0 {
			t.Errorf("stats %+v", stats)
		}
	})
}

// The preview runs a draft against a virtual contact through the API,
// without any channel: nothing is sent and nothing is stored.
func TestSimulateThroughTheAPI(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	owner := a.SignUp(t, "preview")
	ws := owner.CreateWorkspace(t, "Preview")
	base := "/api/v1/workspaces/" + ws + "/flows"
	var created struct{ Flow struct{ ID string } }
	owner.Do("POST", base, `{"format":1,"name":"P","start":"a","nodes":[
		{"id":"a","type":"question","text":"Hello {{contact.first_name}}, a number?","answer":"number","var":"n","next":"b"},
		{"id":"b","type":"delay","duration":"2h","next":"c"},
		{"id":"c","type":"http","method":"GET","url":"http://169.254.169.254/latest/meta-data/","next":"d","failure_next":"e"},
		{"id":"d","type":"message","text":"reached"},{"id":"e","type":"message","text":"Got {{flow.var.n}}; the call was refused."}]}`).Must(t, 201).JSON(t, &created)
	var res struct {
		Transcript []struct {
			From    string
			Note    string
			Content *struct{ Text string }
		}
		State struct {
			Status string
		}
		Problems []struct{ Message string }
	}
	owner.Do("POST", base+"/"+created.Flow.ID+"/simulate", map[string]any{
		"contact": map[string]any{"first_name": "Dara"}, "inputs": []map[string]string{{"text": "42"}},
	}).Must(t, 200).JSON(t, &res)
	var lines []string
	for _, e := range res.Transcript {
		if e.Content != nil {
			lines = append(lines, e.From+": "+e.Content.Text)
		} else {
			lines = append(lines, e.From+": "+e.Note)
		}
	}
	want := "bot: Hello Dara, a number?|contact: 42|note: Waits 2h (skipped in the preview).|bot: Got 42; the call was refused."
	if got := strings.Join(lines, "|"); got != want {
		t.Errorf("transcript\n got %s\nwant %s", got, want)
	}
	if res.State.Status != "ended" || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, "not allowed") {
		t.Errorf("%+v", res)
	}
	// Unsaved edits run as sent; a broken one names the node.
	owner.Do("POST", base+"/"+created.Flow.ID+"/simulate", map[string]any{
		"document": json.RawMessage(`{"format":1,"name":"P","start":"x","nodes":[{"id":"x","type":"message","text":"edited"}]}`),
	}).Must(t, 200).JSON(t, &res)
	if len(res.Transcript) != 1 || res.Transcript[0].Content.Text != "edited" {
		t.Errorf("%+v", res)
	}
	bad := owner.Do("POST", base+"/"+created.Flow.ID+"/simulate", map[string]any{
		"document": json.RawMessage(`{"format":1,"name":"P","start":"x","nodes":[{"id":"x","type":"mesage"}]}`),
	}).Must(t, 400)
	if bad.ErrorCode() != "invalid_document" {
		t.Errorf("%s", bad.Body)
	}
	owner.Do("POST", base+"/"+created.Flow.ID+"/simulate", map[string]any{"inputs": make([]map[string]string, 101)}).Must(t, 422)
	owner.Do("POST", base+"/nope/simulate", map[string]any{}).Must(t, 404)
	// Stats of a flow never published: no version, nothing counted.
	var st struct {
		Version *int
		Nodes   map[string]any
	}
	owner.Do("GET", base+"/"+created.Flow.ID+"/stats", nil).Must(t, 200).JSON(t, &st)
	if st.Version != nil || len(st.Nodes) != 0 {
		t.Errorf("%+v", st)
	}
	owner.Do("GET", base+"/"+created.Flow.ID+"/stats?version=x", nil).Must(t, 400)
	owner.Do("GET", base+"/"+created.Flow.ID+"/stats?version=1", nil).Must(t, 404)
}

// Issue 4 follow-up: the first reply to a new contact greets them by name,
// end to end on both databases. The flow waits for the profile the inbox
// fetches after storing the first message and answers once it is stored;
// when the fetch fails (transiently: it will be retried), the flow answers
// with the fallback once its short timeout passes; the profile that
// arrives later greets nobody twice.
func TestFlowGreetsNewContactByName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		owner := a.SignUp(t, "greeter")
		ws := owner.CreateWorkspace(t, "Greetings")
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		base := "/api/v1/workspaces/" + ws + "/flows"
		var greet, prices struct{ Flow struct{ ID string } }
		owner.Do("POST", base, `{"format":1,"name":"Greet","triggers":[{"id":"kw","type":"keyword","mode":"whole_word","keywords":["hello"]}],
			"start":"hi","nodes":[{"id":"hi","type":"message","text":"Hello {{contact.first_name|there}}!"}]}`).Must(t, 201).JSON(t, &greet)
		owner.Do("POST", base+"/"+greet.Flow.ID+"/publish", nil).Must(t, 200)
		owner.Do("POST", base, `{"format":1,"name":"Prices","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["price"]}],
			"start":"p","nodes":[{"id":"p","type":"message","text":"From $10."}]}`).Must(t, 201).JSON(t, &prices)
		owner.Do("POST", base+"/"+prices.Flow.ID+"/publish", nil).Must(t, 200)

		sim := a.Sim.Sim()
		page := ch.ExternalID
		say := func(psid, text string) {
			t.Helper()
			if _, status, err := sim.SendText(ctx, page, psid, text); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
		}
		// sent returns the text of the n-th message the page sent, and to
		// whom.
		sent := func(n int) (string, string) {
			t.Helper()
			all, err := sim.WaitSent(ctx, page, n)
			if err != nil {
				t.Fatalf("waiting for message %d: %v (sent: %d)", n, err, len(all))
			}
			var m sentMessage
			if err := json.Unmarshal(all[n-1].Message, &m); err != nil {
				t.Fatal(err)
			}
			return m.Text, all[n-1].PSID
		}
		// until polls cond (the app works in the background) until it
		// holds, or fails the test when ctx ends.
		until := func(what string, cond func() bool) {
			t.Helper()
			for !cond() {
				select {
				case <-ctx.Done():
					t.Fatalf("never: %s", what)
				case <-time.After(20 * time.Millisecond):
				}
			}
		}
		status := func(psid string) string {
			var s string
			if err := a.DB.R.NewRaw(`SELECT s.status FROM flow_sessions s JOIN contacts ct ON ct.id = s.contact_id
				WHERE ct.channel_id = ? AND ct.external_id = ?`, ch.ID, psid).Scan(ctx, &s); err != nil {
				return ""
			}
			return s
		}

		// The very first message is answered by name.
		sok := sim.AddPerson(page, metasim.Person{FirstName: "Sok", LastName: "Dara", Locale: "km_KH"})
		say(sok, "hello")
		if text, to := sent(1); text != "Hello Sok!" || to != sok {
			t.Fatalf("first reply %q to %s, want “Hello Sok!” to %s", text, to, sok)
		}

		// The profile fetch fails (and will be retried later): nothing is
		// said until the wait is over, then the fallback greets.
		kanha := sim.AddPerson(page, metasim.Person{FirstName: "Kanha", Locale: "km_KH"})
		sim.InjectError(metasim.ErrorRule{Path: "/" + kanha, Code: 2})
		say(kanha, "hello")
		until("the profile fetch fails", func() bool {
			for _, c := range sim.Calls() {
				if strings.HasSuffix(c.Path, "/"+kanha) && c.ErrorCode == 2 {
					return true
				}
			}
			return false
		})
		until("the flow waits for the profile", func() bool { return status(kanha) == "starting" })
		if n := len(sim.Sent(page)); n != 1 {
			t.Fatalf("%d messages sent before the wait was over", n)
		}
		a.Clock.Advance(run.DefaultProfileWait)
		if text, to := sent(2); text != "Hello there!" || to != kanha {
			t.Fatalf("after the timeout: %q to %s", text, to)
		}

		// The retried fetch succeeds later: the name is stored, and the
		// greeting is not repeated.
		sim.Reset()
		a.Clock.Advance(time.Minute) // past the profile job's backoff
		until("the retried fetch ends", func() bool {
			var n int
			err := a.DB.R.NewRaw(`SELECT COUNT(*) FROM jobs WHERE kind = 'contact.profile'`).Scan(ctx, &n)
			return err == nil && n == 0
		})
		var known string
		if err := a.DB.R.NewRaw(`SELECT profile_state FROM contacts WHERE channel_id = ? AND external_id = ?`, ch.ID, kanha).
			Scan(ctx, &known); err != nil || known != "fetched" {
			t.Fatalf("profile state %q %v", known, err)
		}
		say(kanha, "what is the price?")
		if text, to := sent(3); text != "From $10." || to != kanha {
			t.Fatalf("after the late profile: %q to %s (a second greeting?)", text, to)
		}
		var stats struct {
			Nodes map[string]struct{ Entered int }
		}
		owner.Do("GET", base+"/"+greet.Flow.ID+"/stats", nil).Must(t, 200).JSON(t, &stats)
		if n := len(sim.Sent(page)); n != 3 || stats.Nodes["hi"].Entered != 2 {
			t.Errorf("%d messages sent, greeting entered %d times: want 3 and 2", n, stats.Nodes["hi"].Entered)
		}
	})
}
