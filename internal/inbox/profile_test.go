package inbox

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// pendingSeen is a Responder that records Incoming.ProfilePending.
type pendingSeen struct {
	mu   sync.Mutex
	seen []bool
}

func (p *pendingSeen) Respond(_ context.Context, _ bun.Tx, in Incoming) (Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, in.ProfilePending)
	return Response{}, nil
}

// settled is a ProfileListener that records what it hears and, when the
// contact's profile is stored by then, the stored state.
type settled struct {
	h     *harness
	mu    sync.Mutex
	heard []contact.ProfileState
	err   error
}

func (s *settled) ProfileSettled(ctx context.Context, ws, channelID, contactID string) error {
	ct, err := s.h.contacts.Get(ctx, ws, contactID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || ws != s.h.ws || channelID != s.h.ch.ID {
		s.h.t.Errorf("listener told %s %s %s: %v", ws, channelID, contactID, err)
	}
	s.heard = append(s.heard, ct.ProfileState)
	return s.err
}

func (s *settled) got() []contact.ProfileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]contact.ProfileState(nil), s.heard...)
}

// A responder learns that a new person's names are on their way
// (ProfilePending) while their first fetch is queued, and the listener
// hears when the fetch has ended — fetched or unavailable, once stored —
// but not about a transient failure that will be retried. A failing
// listener fails nothing.
func TestProfilePendingAndListener(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		resp := &pendingSeen{}
		l := &settled{h: h}
		h.svc.opt.Responder, h.svc.opt.OnProfile = resp, l

		h.ingest(h.text("psid-1", "m_1", "hi"))
		h.ingest(h.text("psid-1", "m_2", "still pending"))
		if errs := h.runProfiles(false); len(errs) != 1 || errs[0] != nil {
			t.Fatalf("fetch: %v", errs)
		}
		h.ingest(h.text("psid-1", "m_3", "known now"))
		if got := l.got(); len(got) != 1 || got[0] != contact.ProfileFetched {
			t.Fatalf("listener heard %v, want one fetched profile", got)
		}

		// A transient failure is not an outcome; the last attempt is.
		h.profiles.script = []error{&channel.SendError{Kind: channel.ErrTransient, Code: 2}, &channel.SendError{Kind: channel.ErrTransient, Code: 2}}
		h.ingest(h.text("psid-2", "m_4", "hi"))
		if errs := h.runProfiles(false); len(errs) != 1 || errs[0] == nil {
			t.Fatalf("a transient failure must be retried: %v", errs)
		}
		if got := l.got(); len(got) != 1 {
			t.Fatalf("listener told of a transient failure: %v", got)
		}
		l.err = context.DeadlineExceeded // the listener fails: the fetch does not
		if errs := h.runProfiles(true); len(errs) != 1 || errs[0] != nil {
			t.Fatalf("last attempt: %v", errs)
		}
		if got := l.got(); len(got) != 2 || got[1] != contact.ProfileUnavailable {
			t.Fatalf("listener heard %v, want fetched then unavailable", got)
		}
		if n := len(h.queuedJobs(KindProfile)); n != 0 {
			t.Errorf("%d profile jobs left", n)
		}

		// An unavailable profile is due again after a day, but its names
		// are not "on their way": nobody should wait for them.
		h.clock.Advance(contact.ProfileRetry + time.Minute)
		h.ingest(h.text("psid-2", "m_5", "next day"))
		want := []bool{true, true, false, true, false}
		resp.mu.Lock()
		defer resp.mu.Unlock()
		if len(resp.seen) != len(want) {
			t.Fatalf("responder asked %d times, want %d", len(resp.seen), len(want))
		}
		for i := range want {
			if resp.seen[i] != want[i] {
				t.Errorf("message %d: ProfilePending %v, want %v", i+1, resp.seen[i], want[i])
			}
		}
	})
}

// Without a profile fetcher for the channel nothing is fetched, so no
// responder is told to wait for names.
func TestProfileNotPendingWithoutFetcher(t *testing.T) {
	h := newHarness(t, dbtest.SQLite(t))
	resp := &pendingSeen{}
	h.svc.opt.Responder = resp
	h.svc.opt.Profiles = nil
	h.ingest(h.text("psid-1", "m_1", "hi"))
	if len(resp.seen) != 1 || resp.seen[0] {
		t.Errorf("ProfilePending %v without a fetcher", resp.seen)
	}
}

var _ ProfileListener = (*settled)(nil)
