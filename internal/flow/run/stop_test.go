package run

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// followUp waits an hour, then acts on the contact (a tag, a field), sends
// their name to a third party and says so: everything work resumed by a
// job can do.
const followUp = `{"format":1,"name":"Follow-up","triggers":[{"id":"kw","type":"keyword","mode":"exact","keywords":["later"]}],
	"start":"first","nodes":[
	{"id":"first","type":"message","text":"See you in an hour.","next":"wait"},
	{"id":"wait","type":"delay","duration":"1h","next":"act"},
	{"id":"act","type":"action","actions":[{"type":"add_tag","tag":"followed"},{"type":"set_field","field":"stage","value":"followed"}],"next":"call"},
	{"id":"call","type":"http","method":"GET","url":"https://crm.example.com/who?n={{contact.first_name|x}}","next":"done","failure_next":"done"},
	{"id":"done","type":"message","text":"Checked."}]}`

// touched reports what runs did to psid's contact: its tags' count and
// its "stage" field.
func (h *harness) touched(psid string) (tags int, stage string) {
	h.t.Helper()
	ctx := context.Background()
	id := h.conversation(psid).ContactID
	ts, err := h.contacts.ContactTags(ctx, h.ws, id)
	if err != nil {
		h.t.Fatal(err)
	}
	vals, err := h.contacts.FieldValues(ctx, h.ws, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(ts), vals["stage"].Text
}

// requests is how many requests http nodes made.
func (h *harness) requests() int {
	h.caller.mu.Lock()
	defer h.caller.mu.Unlock()
	return len(h.caller.reqs)
}

// runHeld runs the runner's due jobs by hand while processing is paused:
// each must snooze (wait without using an attempt) and stay queued. It
// returns how many ran.
func (h *harness) runHeld(t *testing.T) int {
	t.Helper()
	n := 0
	for _, j := range h.pending() {
		if j.RunAt.After(h.clock.Now()) {
			continue
		}
		handler := h.runner.handleResume
		if j.Kind == KindHTTP {
			handler = h.runner.handleHTTP
		}
		err := handler(context.Background(), jobOf(j))
		if want := job.Snooze(pauseRetry, errPaused); !reflect.DeepEqual(err, want) {
			t.Fatalf("job %s while paused: %v, want a snooze", j.Kind, err)
		}
		n++
	}
	return n
}

// Promise P-37: while the operator's kill switch pauses processing of the
// workspace, the work jobs resume waits: a delay's end runs no action, a
// request node makes no request, and nothing is said. The jobs snooze
// (no attempt used); on resume the flow goes on exactly as it would have.
// Another workspace's pause changes nothing.
func TestRunnerJobsWaitWhileProcessingPaused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.field("stage", contact.FieldText)
		h.publish(followUp)
		var paused atomic.Bool
		ws := h.ws
		h.runner.opt.Paused = func(w string) bool { return paused.Load() && w == ws }

		h.say("psid-1", "later")
		h.said("psid-1")
		before := h.session("psid-1")
		paused.Store(true)
		h.clock.Advance(2 * time.Hour)
		for range 3 { // however often the queue looks
			if n := h.runHeld(t); n != 1 {
				t.Fatalf("%d jobs ran, want the delay's", n)
			}
		}
		if s := h.session("psid-1"); s.Status != StatusWaiting || s.Token != before.Token {
			t.Fatalf("the paused delay moved the session: %+v", s)
		}
		if tags, stage := h.touched("psid-1"); tags != 0 || stage != "" {
			t.Fatalf("actions ran while paused: %d tags, stage %q", tags, stage)
		}
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("said while paused: %v", texts)
		}

		// Resumed: the delay ends; the request node's job is then held.
		paused.Store(false)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran after resume", n)
		}
		if tags, stage := h.touched("psid-1"); tags != 1 || stage != "followed" {
			t.Fatalf("after resume: %d tags, stage %q", tags, stage)
		}
		paused.Store(true)
		if n := h.runHeld(t); n != 1 {
			t.Fatalf("%d jobs ran, want the request's", n)
		}
		if n := h.requests(); n != 0 {
			t.Fatalf("%d requests while paused", n)
		}
		paused.Store(false)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran after resume", n)
		}
		if n := h.requests(); n != 1 {
			t.Errorf("%d requests after resume, want 1", n)
		}
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Checked."}, texts) != "" {
			t.Errorf("after resume: %v", texts)
		}

		// Another workspace's pause does not hold this one's.
		h.runner.opt.Paused = func(w string) bool { return w != ws }
		h.say("psid-2", "later")
		h.clock.Advance(2 * time.Hour)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran", n)
		}
		if tags, _ := h.touched("psid-2"); tags != 1 {
			t.Errorf("another workspace's pause held this one: %d tags", tags)
		}
	})
}

// Promise P-37: a flow held for the contact's profile does not start when
// the profile comes while processing is paused; its timeout job waits,
// and after the resume the flow starts once.
func TestHeldFlowWaitsWhileProcessingPaused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := profiled(t, d)
		h.publish(greet)
		var paused atomic.Bool
		h.runner.opt.Paused = func(string) bool { return paused.Load() }
		h.say("psid-1", "hello")
		paused.Store(true)
		h.settle("psid-1", sok, contact.ProfileFetched)
		h.clock.Advance(DefaultProfileWait)
		if n := h.runHeld(t); n != 1 {
			t.Fatalf("%d jobs ran, want the hold's timeout", n)
		}
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("started while paused: %v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusStarting {
			t.Fatalf("session %+v, want still held", s)
		}
		paused.Store(false)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran after resume", n)
		}
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Hello Sok! Your e-mail?"}, texts) != "" {
			t.Errorf("after resume: %v", texts)
		}
	})
}

// Promises P-34, P-40: work a job resumes for a contact automation may
// not touch (restricted, objecting, consent withdrawn, a minor: what
// Options.Blocked reports), or in a workspace waiting to be deleted, ends
// the session without a word: no action runs, no request carries the
// contact's data to a third party, nothing is said. A failing check
// changes nothing and is retried.
func TestRunnerJobsStopForBlockedContacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		h.field("stage", contact.FieldText)
		id := h.publish(followUp)
		blocked := map[string]string{}
		var checkErr error
		var outside atomic.Int32 // checks made outside a transaction
		h.runner.opt.Blocked = func(_ context.Context, idb bun.IDB, _, contactID string) (string, error) {
			if _, ok := idb.(bun.Tx); !ok {
				outside.Add(1)
			}
			return blocked[contactID], checkErr
		}
		contactOf := func(psid string) string { return h.conversation(psid).ContactID }
		ended := func(psid string) {
			t.Helper()
			if s := h.session(psid); s.Status != StatusEnded {
				t.Errorf("%s: session %+v, want ended", psid, s)
			}
			if texts := h.saidTexts(psid); len(texts) != 0 {
				t.Errorf("%s: said %v", psid, texts)
			}
		}

		h.say("psid-1", "later")
		h.say("psid-2", "later")
		h.said("psid-1")
		h.said("psid-2")
		h.clock.Advance(2 * time.Hour)

		// The check fails: the job fails (to be retried), nothing moves.
		checkErr = errors.New("database is locked")
		for _, j := range h.pending() {
			if err := h.runner.handleResume(context.Background(), jobOf(j)); !errors.Is(err, checkErr) {
				t.Fatalf("resume with a failing check: %v", err)
			}
		}
		if s := h.session("psid-1"); s.Status != StatusWaiting {
			t.Fatalf("session %+v, want still waiting", s)
		}
		checkErr = nil

		// A delay ends for a restricted contact: no action, no word.
		blocked[contactOf("psid-1")] = "restricted"
		if n := h.runDue(); n != 2 {
			t.Fatalf("%d jobs ran", n)
		}
		if tags, stage := h.touched("psid-1"); tags != 0 || stage != "" {
			t.Errorf("actions ran for a restricted contact: %d tags, stage %q", tags, stage)
		}
		ended("psid-1")
		if st := h.stats(id, 1)["wait"]; st != (NodeStats{Entered: 2, Completed: 1, Dropped: 1}) {
			t.Errorf("wait stats %+v", st)
		}
		// psid-2 was not blocked: its flow acted and now waits for its
		// request; then its consent is withdrawn.
		if tags, _ := h.touched("psid-2"); tags != 1 {
			t.Fatalf("the unblocked contact's flow did not act: %d tags", tags)
		}
		blocked[contactOf("psid-2")] = "consent_withdrawn"
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran, want the request's", n)
		}
		if n := h.requests(); n != 0 {
			t.Errorf("%d requests for a contact who withdrew consent", n)
		}
		ended("psid-2")
		if outside.Load() == 0 {
			t.Error("the request job did not check before its request (through the reader pool)")
		}
		if jobs := h.pending(); len(jobs) != 0 {
			t.Errorf("jobs left %+v", jobs)
		}

		// The workspace is being deleted: its flows do not go on.
		h.say("psid-3", "later")
		h.said("psid-3")
		if _, err := d.W.NewRaw(`UPDATE workspaces SET deletion_requested_at = ? WHERE id = ?`, h.clock.Now(), h.ws).
			Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(2 * time.Hour)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran", n)
		}
		if tags, stage := h.touched("psid-3"); tags != 0 || stage != "" {
			t.Errorf("actions ran in a workspace being deleted: %d tags, stage %q", tags, stage)
		}
		ended("psid-3")
	})
}
