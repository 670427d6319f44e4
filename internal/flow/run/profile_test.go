package run

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// noProfiles is a profile fetcher the harness never calls (it does not run
// profile jobs): with it the inbox queues a fetch for every new contact
// and reports the profile pending, as in production.
type noProfiles struct{}

func (noProfiles) Profile(context.Context, channel.Channel, string, string) (channel.Profile, error) {
	return channel.Profile{}, nil
}

// greet greets by name and asks a question; "price" starts another flow,
// which reads no names.
const (
	greet = `{"format":1,"name":"Greet","triggers":[{"id":"kw","type":"keyword","mode":"whole_word","keywords":["hello"]}],
	"start":"hi","nodes":[
	{"id":"hi","type":"question","text":"Hello {{contact.first_name|there}}! Your e-mail?","answer":"email","var":"mail","next":"thanks"},
	{"id":"thanks","type":"message","text":"Thanks, {{contact.first_name|friend}}."}]}`
	prices = `{"format":1,"name":"Prices","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["price"]}],
	"start":"p","nodes":[{"id":"p","type":"message","text":"From $10."}]}`
)

// profiled is a harness whose inbox fetches profiles and tells the runner.
func profiled(t *testing.T, d *db.DB) *harness {
	t.Helper()
	h := newHarness(t, d)
	h.profiles = noProfiles{}
	h.restart()
	return h
}

// settle stores psid's profile as the inbox's profile job does, then tells
// the runner, as the job does once the profile is stored.
func (h *harness) settle(psid string, p channel.Profile, state contact.ProfileState) {
	h.t.Helper()
	conv := h.conversation(psid)
	ctx := context.Background()
	if err := h.contacts.SetProfile(ctx, h.ws, conv.ContactID, p, state); err != nil {
		h.t.Fatal(err)
	}
	if err := h.runner.ProfileSettled(ctx, h.ws, h.ch.ID, conv.ContactID); err != nil {
		h.t.Fatal(err)
	}
}

var sok = channel.Profile{FirstName: "Sok", LastName: "Dara", Locale: "km_KH"}

// Issue 4 follow-up: the first reply to a new contact greets them by name.
// The flow is held while the profile is fetched, starts when it is
// stored, and the timeout job that was its safety net does nothing.
func TestFirstMessageGreetsByName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := profiled(t, d)
		id := h.publish(greet)

		h.say("psid-1", "hello")
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("answered before the profile came: %v", texts)
		}
		s := h.session("psid-1")
		if s.Status != StatusStarting || s.FlowID != id || s.Version != 1 || !s.Deadline.Equal(h.clock.Now().Add(DefaultProfileWait)) {
			t.Fatalf("held session %+v", s)
		}
		if jobs := h.pending(); len(jobs) != 1 || jobs[0].Kind != KindResume || !jobs[0].RunAt.Equal(s.Deadline) {
			t.Fatalf("the hold's timeout: %+v", jobs)
		}
		if st := h.stats(id, 1); len(st) != 0 {
			t.Errorf("a held flow counted %+v", st)
		}

		h.settle("psid-1", sok, contact.ProfileFetched)
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Hello Sok! Your e-mail?"}, texts) != "" {
			t.Fatalf("after the profile: %v", texts)
		}
		conv := h.conversation("psid-1")
		ms, _ := h.inbox.Messages(context.Background(), h.ws, conv.ID, 1, "")
		if ms[0].SenderType != inbox.SenderFlow || ms[0].SenderID != id {
			t.Errorf("the greeting's author is %s %s, want the flow", ms[0].SenderType, ms[0].SenderID)
		}
		if s := h.session("psid-1"); s.Status != StatusAwaiting || s.Node != "hi" {
			t.Fatalf("session after the start %+v", s)
		}

		// The timeout fires: the flow has started, so it does nothing; a
		// second profile report neither.
		h.clock.Advance(DefaultProfileWait)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran", n)
		}
		if err := h.runner.ProfileSettled(context.Background(), h.ws, h.ch.ID, conv.ContactID); err != nil {
			t.Fatal(err)
		}
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("greeted twice: %v", texts)
		}
		h.say("psid-1", "sok@example.com")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Thanks, Sok."}, texts) != "" {
			t.Fatalf("the flow went on: %v", texts)
		}
		if diff := cmp.Diff(map[string]NodeStats{"hi": {Entered: 1, Completed: 1}, "thanks": {Entered: 1, Completed: 1}}, h.stats(id, 1)); diff != "" {
			t.Errorf("stats (-want +got):\n%s", diff)
		}

		// Known now: the next start is at once.
		h.say("psid-1", "hello again")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Hello Sok! Your e-mail?"}, texts) != "" {
			t.Fatalf("a known contact waited: %v", texts)
		}
	})
}

// A profile that cannot be fetched: "unavailable" is an outcome too, so
// the flow starts at once with the fallback; a fetch that never reports
// (failing transiently, slow, or its end missed) leaves the flow to its
// timeout, which starts it with the fallback; a profile stored after that
// changes nothing.
func TestHeldFlowWithoutProfile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := profiled(t, d)
		h.publish(greet)

		h.say("psid-1", "hello")
		h.settle("psid-1", channel.Profile{}, contact.ProfileUnavailable)
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Hello there! Your e-mail?"}, texts) != "" {
			t.Fatalf("unavailable profile: %v", texts)
		}
		h.clock.Advance(DefaultProfileWait)
		if n := h.runDue(); n != 1 || len(h.saidTexts("psid-1")) != 0 {
			t.Fatalf("psid-1's stale timeout: %d jobs ran", n)
		}

		h.say("psid-2", "hello")
		h.clock.Advance(DefaultProfileWait - 1)
		if n := h.runDue(); n != 0 {
			t.Fatalf("the timeout fired early (%d jobs)", n)
		}
		h.clock.Advance(1)
		if n := h.runDue(); n != 1 {
			t.Fatalf("%d jobs ran at the deadline", n)
		}
		if texts := h.saidTexts("psid-2"); cmp.Diff([]string{"Hello there! Your e-mail?"}, texts) != "" {
			t.Fatalf("after the timeout: %v", texts)
		}
		h.settle("psid-2", sok, contact.ProfileFetched)
		if texts := h.saidTexts("psid-2"); len(texts) != 0 {
			t.Fatalf("a late profile greeted again: %v", texts)
		}
		if s := h.session("psid-2"); s.Status != StatusAwaiting || s.Node != "hi" {
			t.Errorf("session %+v", s)
		}
	})
}

// A message arriving while the flow is held does not overtake the
// greeting: the held flow starts first (with the names known so far), then
// the message is handled as if the flow had started at once — here it
// answers the question; a keyword of another flow starts that one after
// the greeting.
func TestHeldFlowNotOvertaken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := profiled(t, d)
		h.publish(greet)
		h.publish(prices)

		h.say("psid-1", "hello")
		h.say("psid-1", "dara@example.com")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"Hello there! Your e-mail?", "Thanks, friend."}, texts) != "" {
			t.Fatalf("in order: %v", texts)
		}
		h.settle("psid-1", sok, contact.ProfileFetched)
		h.clock.Advance(DefaultProfileWait)
		h.runDue()
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("greeted again: %v", texts)
		}

		h.say("psid-2", "hello")
		h.say("psid-2", "what is the price?")
		if texts := h.saidTexts("psid-2"); cmp.Diff([]string{"Hello there! Your e-mail?", "From $10."}, texts) != "" {
			t.Fatalf("another flow's keyword: %v", texts)
		}
	})
}

// Only flows that read names wait, and only for a contact whose profile is
// being fetched: a flow without names answers a new contact at once, with
// no job; without a profile fetcher for the channel (nothing will come)
// nothing waits either.
func TestOnlyNamesWait(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := profiled(t, d)
		h.publish(prices)
		h.say("psid-1", "price?")
		if texts := h.saidTexts("psid-1"); cmp.Diff([]string{"From $10."}, texts) != "" {
			t.Fatalf("%v", texts)
		}
		if jobs := h.pending(); len(jobs) != 0 {
			t.Errorf("jobs for a flow without names: %+v", jobs)
		}

		h2 := newHarness(t, d) // no profile fetcher
		h2.publish(greet)
		h2.say("psid-1", "hello")
		if texts := h2.saidTexts("psid-1"); cmp.Diff([]string{"Hello there! Your e-mail?"}, texts) != "" {
			t.Fatalf("without a fetcher: %v", texts)
		}
	})
}

// A person who takes the conversation over while the flow is held keeps
// it: the timeout (or the profile) ends the held session without a word.
func TestHeldFlowQuietWhileHumanOwns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := profiled(t, d)
		h.publish(greet)
		h.say("psid-1", "hello")
		conv := h.conversation("psid-1")
		if err := h.inbox.SetOwner(context.Background(), author, h.ws, conv.ID, inbox.OwnerHuman); err != nil {
			t.Fatal(err)
		}
		h.settle("psid-1", sok, contact.ProfileFetched)
		h.clock.Advance(DefaultProfileWait)
		h.runDue()
		if texts := h.saidTexts("psid-1"); len(texts) != 0 {
			t.Fatalf("the flow spoke over a person: %v", texts)
		}
		if s := h.session("psid-1"); s.Status != StatusEnded {
			t.Errorf("session %+v", s)
		}
	})
}

// The profile's report and the timeout racing each other start the flow
// once: both lock the conversation and check the session's token. (One
// race at a time: each resume holds a transaction and reads the contact
// through the pool, and the test pool is small.)
func TestHeldFlowStartsOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := profiled(t, d)
		h.publish(greet)
		psids := []string{"psid-1", "psid-2", "psid-3", "psid-4"}
		for _, p := range psids {
			h.say(p, "hello")
		}
		for _, p := range psids {
			conv := h.conversation(p)
			if err := h.contacts.SetProfile(context.Background(), h.ws, conv.ContactID, sok, contact.ProfileFetched); err != nil {
				t.Fatal(err)
			}
		}
		h.clock.Advance(DefaultProfileWait)
		jobs := h.pending()
		if len(jobs) != len(psids) {
			t.Fatalf("%d timeout jobs", len(jobs))
		}
		for i, p := range psids {
			conv := h.conversation(p)
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			wg.Go(func() { errs <- h.runner.ProfileSettled(context.Background(), h.ws, h.ch.ID, conv.ContactID) })
			wg.Go(func() { errs <- h.runner.handleResume(context.Background(), jobOf(jobs[i])) })
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, p := range psids {
			if texts := h.saidTexts(p); strings.Join(texts, "|") != "Hello Sok! Your e-mail?" {
				t.Errorf("%s got %v", p, texts)
			}
		}
	})
}
