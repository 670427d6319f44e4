package run

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

const welcome = `{"format":1,"name":"Welcome","triggers":[
	{"id":"kw","type":"keyword","mode":"contains","keywords":["price","តម្លៃ"]},
	{"id":"gs","type":"get_started"}],
	"start":"hi","nodes":[
	{"id":"hi","type":"message","text":"Hi {{contact.first_name|there}}! What would you like?",
	 "quick_replies":[{"title":"Prices","next":"prices"},{"title":"Talk to us","next":"human"}]},
	{"id":"prices","type":"message","text":"From $10.","next":"bye"},
	{"id":"bye","type":"end"},
	{"id":"human","type":"handoff","team":"sales"}]}`

func TestRunnerWelcome(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		id := h.publish(welcome)

		// Nothing matches and there is no default trigger: the channel's
		// fixed reply answers, as without flows.
		h.say("psid-1", "hello")
		if got := h.saidTexts("psid-1"); cmp.Diff([]string{h.ch.AutoReply}, got) != "" {
			t.Fatalf("no match: %v", got)
		}

		// The keyword starts the flow, in Khmer too.
		h.say("psid-1", "សុំតម្លៃផង")
		got := h.said("psid-1")
		if len(got) != 1 || got[0].Text != "Hi there! What would you like?" || len(got[0].QuickReplies) != 2 {
			t.Fatalf("keyword: %+v", got)
		}
		if s := h.session("psid-1"); s.Status != StatusAwaiting || s.Node != "hi" || s.FlowID != id || s.Version != 1 {
			t.Fatalf("session %+v", s)
		}
		conv := h.conversation("psid-1")
		ms, _ := h.inbox.Messages(context.Background(), h.ws, conv.ID, 1, "")
		if ms[0].SenderType != inbox.SenderFlow || ms[0].SenderID != id {
			t.Errorf("the reply's author is %s %s, want the flow", ms[0].SenderType, ms[0].SenderID)
		}

		// Tapping a quick reply leads on.
		h.tap("psid-1", got[0].QuickReplies[0])
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"From $10."}, texts) != "" {
			t.Fatalf("tap: %v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusEnded {
			t.Fatalf("session %+v", s)
		}
		// Tapping the other chip of the old message still leads on: to
		// the handoff, which gives the conversation to people.
		h.tap("psid-1", got[0].QuickReplies[1])
		if c := h.conversation("psid-1"); c.Owner != inbox.OwnerHuman {
			t.Fatalf("owner after the handoff: %s", c.Owner)
		}
		entries, err := audit.List(context.Background(), d, audit.Filter{WorkspaceID: h.ws})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range entries {
			if e.Action == inbox.ActionOwner && e.TargetID == conv.ID && strings.Contains(string(e.Details), `"team":"sales"`) &&
				strings.Contains(string(e.Details), "flow:"+id) {
				found = true
			}
		}
		if !found {
			for _, e := range entries {
				t.Logf("%s %s %s", e.Action, e.TargetID, e.Details)
			}
			t.Error("the handoff is not audited")
		}
		// Now a person owns it: the flow stays quiet, keyword or not.
		h.say("psid-1", "price?")
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Errorf("a flow spoke over a person: %v", texts)
		}

		want := map[string]NodeStats{
			"hi": {Entered: 1, Completed: 1}, "prices": {Entered: 1, Completed: 1}, "bye": {Entered: 1, Completed: 1},
			"human": {Entered: 1, Completed: 1},
		}
		if diff := cmp.Diff(want, h.stats(id, 1)); diff != "" {
			t.Errorf("stats (-want +got):\n%s", diff)
		}

		// Get Started starts it too.
		h.ingest(h.event("psid-2", "", channel.EventPostback, channel.Content{Postback: &channel.Postback{Title: "Get Started", Payload: "GET_STARTED"}}))
		if texts := h.saidTexts("psid-2"); len(texts) != 1 || !strings.HasPrefix(texts[0], "Hi ") {
			t.Errorf("get started: %v", texts)
		}
	})
}

// Issue 4 item 3: idempotent on redelivery: the same message delivered
// twice runs the flow once (the inbox never hands a redelivery to the
// runner).
func TestRunnerRedelivery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		id := h.publish(welcome)
		ev := h.event("psid-1", "m_same", channel.EventMessage, channel.Content{Text: "price"})
		h.ingest(ev)
		h.ingest(ev)
		h.ingest(ev, ev)
		if texts := h.saidTexts("psid-1"); len(texts) != 1 {
			t.Fatalf("replies %v", texts)
		}
		if s := h.stats(id, 1)["hi"]; s.Entered != 1 {
			t.Errorf("node entered %d times", s.Entered)
		}
	})
}

const lead = `{"format":1,"name":"Lead","triggers":[{"id":"kw","type":"keyword","mode":"whole_word","keywords":["quote"]},
	{"id":"menu","type":"keyword","mode":"exact","keywords":["menu"]}],
	"start":"ask","nodes":[
	{"id":"ask","type":"question","text":"Your e-mail?","answer":"email","field":"email","var":"mail","max_attempts":2,
	 "retry":"Please write an e-mail address.","timeout":"1h","next":"tag","invalid_next":"sorry","timeout_next":"late"},
	{"id":"tag","type":"action","actions":[{"type":"add_tag","tag":"lead"},{"type":"set_field","field":"source","value":"flow {{flow.var.mail}}"},
	 {"type":"set_stage","stage":"Qualified"},{"type":"subscribe"}],"next":"thanks"},
	{"id":"thanks","type":"message","text":"Thanks! We will write to {{contact.field.email}}."},
	{"id":"sorry","type":"message","text":"No problem."},
	{"id":"late","type":"message","text":"Still there? Write quote to start again."}]}`

func TestRunnerQuestion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.field("email", contact.FieldEmail)
		h.field("source", contact.FieldText)
		id := h.publish(lead)
		ctx := context.Background()

		h.say("psid-1", "I want a quote")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Your e-mail?"}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		timeouts := h.pending()
		if len(timeouts) != 1 || timeouts[0].Kind != KindResume || !timeouts[0].RunAt.Equal(h.clock.Now().Add(time.Hour)) {
			t.Fatalf("the question's timeout job: %+v", timeouts)
		}
		// A wrong answer is retried.
		h.say("psid-1", "not telling")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Please write an e-mail address."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if s := h.session("psid-1"); s.Attempts != 1 || s.Status != StatusAwaiting {
			t.Fatalf("%+v", s)
		}
		// A right one is saved to the field and the variable, and the flow
		// goes on: the action node's changes are the contact's.
		h.say("psid-1", "dara@example.com")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Thanks! We will write to dara@example.com."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		conv := h.conversation("psid-1")
		vals, err := h.contacts.FieldValues(ctx, h.ws, conv.ContactID)
		if err != nil || vals["email"].Text != "dara@example.com" || vals["source"].Text != "flow dara@example.com" ||
			vals["email"].UpdatedBy != (contact.By{Kind: contact.ByFlow, ID: id}) {
			t.Fatalf("field values %+v %v", vals, err)
		}
		tags, _ := h.contacts.ContactTags(ctx, h.ws, conv.ContactID)
		ct, _ := h.contacts.Get(ctx, h.ws, conv.ContactID)
		if len(tags) != 1 || tags[0].Name != "lead" || ct.Stage != "Qualified" || !ct.Subscribed {
			t.Fatalf("tags %+v, stage %q, subscribed %v", tags, ct.Stage, ct.Subscribed)
		}
		// The question's timeout comes too late: the answer moved the
		// session on, so the job does nothing.
		h.clock.Advance(2 * time.Hour)
		if n := h.runDue(); n != 2 { // the first ask's and the retry's
			t.Fatalf("%d jobs ran", n)
		}
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("a stale timeout spoke: %v", texts)
		}

		// Too many wrong answers take invalid_next.
		h.say("psid-2", "quote please")
		h.say("psid-2", "no")
		h.say("psid-2", "still no")
		if texts := h.saidTexts("psid-2"); cmp.Diff([]string{"Your e-mail?", "Please write an e-mail address.", "No problem."}, texts) != "" {
			t.Fatalf("%v", texts)
		}

		// No answer within the hour takes timeout_next.
		h.say("psid-3", "quote")
		h.clock.Advance(61 * time.Minute)
		h.runDue()
		if texts := h.saidTexts("psid-3"); cmp.Diff([]string{"Your e-mail?", "Still there? Write quote to start again."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		// A wrong answer that is a deliberate trigger leaves the question.
		h.say("psid-4", "quote")
		h.say("psid-4", "menu")
		if texts := h.saidTexts("psid-4"); cmp.Diff([]string{"Your e-mail?", "Your e-mail?"}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if s := h.session("psid-4"); s.Attempts != 0 {
			t.Errorf("the new run kept the old attempts: %+v", s)
		}

		want := map[string]NodeStats{
			// Reached 5 times (psid-4 twice); psid-2 gave up, psid-3 timed out,
			// psid-4 left for the menu; psid-4's second run still waits.
			"ask":    {Entered: 5, Completed: 1, Dropped: 3},
			"tag":    {Entered: 1, Completed: 1},
			"thanks": {Entered: 1, Completed: 1},
			"sorry":  {Entered: 1, Completed: 1},
			"late":   {Entered: 1, Completed: 1},
		}
		if diff := cmp.Diff(want, h.stats(id, 1)); diff != "" {
			t.Errorf("stats (-want +got):\n%s", diff)
		}
		// The answers are personal data: sealed in the session row.
		var raw []byte
		if err := d.R.NewRaw(`SELECT COALESCE(vars, '') FROM flow_sessions WHERE conversation_id = ?`, h.conversation("psid-4").ID).Scan(ctx, &raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "@") {
			t.Error("session variables stored in clear")
		}
	})
}

const delayFlow = `{"format":1,"name":"Later","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["later"]}],
	"start":"first","nodes":[
	{"id":"first","type":"message","text":"See you in an hour.","next":"wait"},
	{"id":"wait","type":"delay","duration":"1h","cancel_on_reply":CANCEL,"next":"again"},
	{"id":"again","type":"message","text":"Hello again {{flow.var.x|friend}}."}]}`

// A delay is a durable job: it survives a restart (new runner, new inbox,
// empty caches) and resumes the session when due.
func TestRunnerDelaySurvivesRestart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		id := h.publish(strings.Replace(delayFlow, "CANCEL", "false", 1))
		h.say("psid-1", "later")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"See you in an hour."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusWaiting || !s.Deadline.Equal(h.clock.Now().Add(time.Hour)) {
			t.Fatalf("%+v", s)
		}
		// Not due yet: nothing runs.
		h.clock.Advance(30 * time.Minute)
		if n := h.runDue(); n != 0 {
			t.Fatalf("%d jobs ran early", n)
		}
		// A message meanwhile that fires nothing deliberate is left alone:
		// no default reply while the flow waits.
		h.say("psid-1", "ok")
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("%v", texts)
		}
		h.restart()
		h.clock.Advance(31 * time.Minute)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran", n)
		}
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Hello again friend."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if s := h.stats(id, 1)["wait"]; s != (NodeStats{Entered: 1, Completed: 1}) {
			t.Errorf("wait stats %+v", s)
		}
	})
}

// With cancel_on_reply, a message during the delay ends the flow, and the
// message is handled as if no flow ran; the delay's job then does nothing.
func TestRunnerDelayCancelledByReply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		id := h.publish(strings.Replace(delayFlow, "CANCEL", "true", 1))
		h.say("psid-1", "later")
		h.said("psid-1")
		h.say("psid-1", "actually, now?")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{h.ch.AutoReply}, texts) != "" {
			t.Fatalf("the reply goes on as without a flow: %v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusEnded {
			t.Fatalf("%+v", s)
		}
		h.clock.Advance(2 * time.Hour)
		h.runDue()
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("the cancelled delay spoke: %v", texts)
		}
		if s := h.stats(id, 1)["wait"]; s != (NodeStats{Entered: 1, Dropped: 1}) {
			t.Errorf("wait stats %+v", s)
		}
		// The keyword during a delay restarts the flow (a deliberate trigger).
		h.say("psid-1", "later")
		h.say("psid-1", "later")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"See you in an hour.", "See you in an hour."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
	})
}

// Issue 4 item 3: never speaks while a human owns the conversation, also
// when a delay ends after a person took over.
func TestRunnerQuietWhileHumanOwns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		id := h.publish(strings.Replace(delayFlow, "CANCEL", "false", 1))
		h.say("psid-1", "later")
		h.said("psid-1")
		conv := h.conversation("psid-1")
		if err := h.inbox.SetOwner(context.Background(), author, h.ws, conv.ID, inbox.OwnerHuman); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(2 * time.Hour)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs", n)
		}
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("the flow spoke over a person: %v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusEnded {
			t.Errorf("%+v", s)
		}
		if s := h.stats(id, 1)["wait"]; s.Dropped != 1 {
			t.Errorf("wait stats %+v", s)
		}
		// Automate itself refuses too.
		err := d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			_, err := h.inbox.Automate(ctx, tx, h.ws, conv.ID, inbox.Author{Type: inbox.SenderFlow, ID: id},
				inbox.Response{Replies: []channel.Content{{Text: "hi"}}})
			return err
		})
		if err != inbox.ErrNotAutomated {
			t.Errorf("Automate on a human conversation: %v", err)
		}
	})
}

// Issue 4 item 3: a session started on version N finishes on version N
// after N+1 is published; new sessions get N+1.
func TestRunnerVersionPinning(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		v1 := `{"format":1,"name":"Pin","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["go"]}],"start":"q","nodes":[
			{"id":"q","type":"question","text":"Number?","answer":"number","var":"n","next":"done"},
			{"id":"done","type":"message","text":"VERSION {{flow.var.n}}"}]}`
		id := h.publish(strings.Replace(v1, "VERSION", "one", 1))
		h.say("psid-1", "go")
		h.republish(id, strings.Replace(v1, "VERSION", "two", 1))
		h.say("psid-1", "7")
		h.say("psid-2", "go")
		h.say("psid-2", "8")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Number?", "one 7"}, texts) != "" {
			t.Errorf("started on 1: %v", texts)
		}
		if texts := h.saidTexts("psid-2"); cmp.Diff([]string{"Number?", "two 8"}, texts) != "" {
			t.Errorf("started on 2: %v", texts)
		}
		if a, b := h.stats(id, 1)["done"], h.stats(id, 2)["done"]; a.Completed != 1 || b.Completed != 1 {
			t.Errorf("stats by version: %+v %+v", a, b)
		}
	})
}

func TestRunnerHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.field("order_status", contact.FieldText)
		id := h.publish(`{"format":1,"name":"Order","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["order"]}],"start":"call","nodes":[
			{"id":"call","type":"http","method":"GET","url":"https://shop.example.com/orders?who={{contact.first_name|x}}",
			 "headers":[{"name":"Authorization","value":"Bearer s3cret","secret":true}],
			 "map":[{"path":"status","field":"order_status","var":"s"}],"next":"ok","failure_next":"ko"},
			{"id":"ok","type":"message","text":"Your order is {{flow.var.s}}."},
			{"id":"ko","type":"message","text":"Sorry, I cannot check right now."}]}`)
		h.caller.res = CallResponse{Status: 200, Body: []byte(`{"status":"shipped"}`)}
		h.say("psid-1", "order")
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("nothing is said before the answer: %v", texts)
		}
		jobs := h.pending()
		if len(jobs) != 1 || jobs[0].Kind != KindHTTP || strings.Contains(string(jobs[0].Payload), "s3cret") {
			t.Fatalf("jobs %+v", jobs)
		}
		h.runDue()
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Your order is shipped."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if len(h.caller.reqs) != 1 || h.caller.reqs[0].URL != "https://shop.example.com/orders?who=x" ||
			h.caller.reqs[0].Headers[0].Value != "Bearer s3cret" {
			t.Fatalf("requests %+v", h.caller.reqs)
		}
		vals, _ := h.contacts.FieldValues(context.Background(), h.ws, h.conversation("psid-1").ContactID)
		if vals["order_status"].Text != "shipped" {
			t.Errorf("mapped field %+v", vals)
		}
		// The guard refuses the address: the failure branch, and the author
		// sees why.
		h.caller.err = ErrCallBlocked
		h.say("psid-2", "order")
		h.runDue()
		if texts := h.saidTexts("psid-2"); cmp.Diff([]string{"Sorry, I cannot check right now."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		errs := h.errors(id)
		if len(errs) != 1 || errs[0].NodeID != "call" || !strings.Contains(errs[0].Message, "not allowed") || errs[0].Version != 1 {
			t.Fatalf("errors %+v", errs)
		}
		// A stale request job (the contact started over meanwhile) does
		// nothing, and makes no request.
		h.caller.err = nil
		h.say("psid-3", "order")
		h.say("psid-3", "order")
		calls := len(h.caller.reqs)
		h.runDue()
		if got := len(h.caller.reqs) - calls; got != 1 {
			t.Errorf("%d requests for one live session", got)
		}
		if texts := h.saidTexts("psid-3"); cmp.Diff([]string{"Your order is shipped."}, texts) != "" {
			t.Errorf("%v", texts)
		}
	})
}

// A request job that failed for good (its attempts used up, or lost) does
// not leave the conversation without automatic answers for ever: a message
// after the wait's limit ends the session and is answered as without a
// flow; before it, the flow is still waiting and the message gets nothing.
func TestRunnerAbandonedWaitEnds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.publish(`{"format":1,"name":"Order","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["order"]}],"start":"call","nodes":[
			{"id":"call","type":"http","method":"GET","url":"https://shop.example.com/orders","next":"ok","failure_next":"ok"},
			{"id":"ok","type":"message","text":"Checked."}]}`)
		h.say("psid-1", "order")
		if _, err := d.W.NewRaw(`DELETE FROM jobs WHERE kind = ?`, KindHTTP).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.say("psid-1", "hello?")
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("while the request may still come: %v", texts)
		}
		h.clock.Advance(httpWaitLimit + resumeGrace + time.Minute)
		h.say("psid-1", "hello??")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{h.ch.AutoReply}, texts) != "" {
			t.Fatalf("after the wait's limit the message is answered as without a flow: %v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusEnded {
			t.Fatalf("session %+v", s)
		}
	})
}

// Issue 4 item 3: loops are bounded: flows that jump to each other forever
// stop with an error the author sees.
func TestRunnerLoopBound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		a := h.publish(`{"format":1,"name":"A","start":"n","nodes":[{"id":"n","type":"end"}]}`)
		h.republish(a, strings.Replace(`{"format":1,"name":"A","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["loop"]}],"start":"n","nodes":[
			{"id":"n","type":"action","actions":[{"type":"add_tag","tag":"looped"}],"next":"go"},{"id":"go","type":"goto_flow","flow":"SELF"}]}`, "SELF", a, 1))
		h.say("psid-1", "loop")
		errs := h.errors(a)
		if len(errs) != 1 || errs[0].NodeID != "go" || !strings.Contains(errs[0].Message, "more than") {
			t.Fatalf("errors %+v", errs)
		}
		if s := h.session("psid-1"); s.Status != StatusEnded {
			t.Errorf("%+v", s)
		}
	})
}

// Promise P-16: automatic replies go through the messaging policy; a
// refusal is logged and skipped, never fatal: the job succeeds and the
// session moves on.
func TestRunnerPolicyRefusal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		id := h.publish(`{"format":1,"name":"Late","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["remind me"]}],"start":"w","nodes":[
			{"id":"w","type":"delay","duration":"2d","next":"m"},{"id":"m","type":"message","text":"Reminder!","next":"e"},{"id":"e","type":"end"}]}`)
		h.say("psid-1", "remind me")
		h.clock.Advance(49 * time.Hour) // past Messenger's 24-hour window
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs", n)
		}
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("sent outside the window: %v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusEnded {
			t.Errorf("%+v", s)
		}
		if s := h.stats(id, 1)["e"]; s.Completed != 1 {
			t.Errorf("the run did not go on: %+v", h.stats(id, 1))
		}
	})
}

func TestRunnerDefaultCooldownAndResolve(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.publish(`{"format":1,"name":"Fallback","triggers":[{"id":"d","type":"default","cooldown":"1h"}],"start":"m","nodes":[
			{"id":"m","type":"message","text":"We got your message.","next":"r"},
			{"id":"r","type":"action","actions":[{"type":"resolve"}]}]}`)
		h.say("psid-1", "anything")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"We got your message."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if c := h.conversation("psid-1"); c.Status != inbox.StatusResolved {
			t.Errorf("not resolved: %s", c.Status)
		}
		h.clock.Advance(30 * time.Minute)
		h.say("psid-1", "anything else")
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("within the cooldown: %v (no automatic reply either)", texts)
		}
		h.clock.Advance(31 * time.Minute)
		h.say("psid-1", "and again")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"We got your message."}, texts) != "" {
			t.Fatalf("after the cooldown: %v", texts)
		}
	})
}

// A value a typed field refuses is a problem for the author, not a failed
// transaction: the message is stored and the flow goes on.
func TestRunnerActionRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.field("age", contact.FieldNumber)
		id := h.publish(`{"format":1,"name":"Age","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["age"]}],"start":"a","nodes":[
			{"id":"a","type":"action","actions":[{"type":"set_field","field":"age","value":"twelve {{contact.first_name}}"}],"next":"m"},
			{"id":"m","type":"message","text":"Done."}]}`)
		h.say("psid-1", "age")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Done."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		errs := h.errors(id)
		if len(errs) != 1 || errs[0].NodeID != "a" || !strings.Contains(errs[0].Message, "“age”") || strings.Contains(errs[0].Message, "twelve") {
			t.Fatalf("errors %+v", errs)
		}
	})
}

func TestRunnerRandomizerAndGoto(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		target := h.publish(`{"format":1,"name":"Target","start":"m","nodes":[{"id":"m","type":"message","text":"In the target."}]}`)
		src := h.publish(`{"format":1,"name":"AB","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["ab"]}],"start":"r","nodes":[
			{"id":"r","type":"randomizer","branches":[{"weight":1,"next":"a"},{"weight":1,"next":"b"}]},
			{"id":"a","type":"message","text":"A","next":"g"},{"id":"b","type":"message","text":"B"},
			{"id":"g","type":"goto_flow","flow":"` + target + `"}]}`)
		h.rand = 0
		h.say("psid-1", "ab")
		h.rand = 1
		h.say("psid-2", "ab")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"A", "In the target."}, texts) != "" {
			t.Errorf("%v", texts)
		}
		if texts := h.saidTexts("psid-2"); cmp.Diff([]string{"B"}, texts) != "" {
			t.Errorf("%v", texts)
		}
		if s := h.stats(target, 1)["m"]; s.Completed != 1 {
			t.Errorf("target stats %+v", s)
		}
		if s := h.stats(src, 1)["r"]; s.Entered != 2 {
			t.Errorf("randomizer stats %+v", s)
		}
		// An archived target does not run; the author learns why.
		if _, err := h.flows.Archive(context.Background(), h.ws, target, author); err != nil {
			t.Fatal(err)
		}
		h.rand = 0
		h.say("psid-3", "ab")
		if texts := h.saidTexts("psid-3"); cmp.Diff([]string{"A"}, texts) != "" {
			t.Errorf("%v", texts)
		}
		if errs := h.errors(src); len(errs) != 1 || errs[0].NodeID != "g" || !strings.Contains(errs[0].Message, "not published") {
			t.Errorf("%+v", errs)
		}
	})
}

// A request that cannot be rendered (a variable would put a line break in
// a header) fails the node, not the job, and the author learns why.
func TestRunnerHTTPRenderFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		id := h.publish(`{"format":1,"name":"Hdr","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["hdr"]}],"start":"q","nodes":[
			{"id":"q","type":"question","text":"Name?","answer":"text","var":"who","next":"call"},
			{"id":"call","type":"http","method":"GET","url":"https://api.example.com/x","headers":[{"name":"X-Who","value":"{{flow.var.who}}"}],
			 "next":"ok","failure_next":"ko"},
			{"id":"ok","type":"message","text":"ok"},{"id":"ko","type":"message","text":"ko"}]}`)
		h.say("psid-1", "hdr")
		h.say("psid-1", "two\nlines")
		h.runDue()
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Name?", "ko"}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if len(h.caller.reqs) != 0 {
			t.Errorf("a request was made: %+v", h.caller.reqs)
		}
		if errs := h.errors(id); len(errs) != 1 || !strings.Contains(errs[0].Message, "could not be filled in") {
			t.Errorf("%+v", errs)
		}
	})
}

// An m.me link opened during a question is not an answer: an unknown ref
// changes nothing, a known one starts its flow.
func TestRunnerReferralDuringQuestion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.field("email", contact.FieldEmail)
		h.field("source", contact.FieldText)
		h.publish(lead)
		h.publish(`{"format":1,"name":"Promo","triggers":[{"id":"r","type":"ref","ref":"summer"}],"start":"m","nodes":[{"id":"m","type":"message","text":"Summer deals!"}]}`)
		h.say("psid-1", "quote")
		ref := func(r string) {
			h.ingest(h.event("psid-1", "", channel.EventReferral, channel.Content{Referral: &channel.Referral{Ref: r, Source: "SHORTLINK"}}))
		}
		ref("unknown")
		if s := h.session("psid-1"); s.Attempts != 0 || s.Node != "ask" || s.Status != StatusAwaiting {
			t.Fatalf("an unknown ref touched the question: %+v", s)
		}
		ref("summer")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Your e-mail?", "Summer deals!"}, texts) != "" {
			t.Fatalf("%v", texts)
		}
	})
}
