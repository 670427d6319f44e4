package metasim

import (
	"context"
	"strings"
	"time"
)

// ErrorRule makes matching Graph calls fail with a chosen error, to test
// how Parley handles Meta's failures.
type ErrorRule struct {
	// Path matches calls whose URL path ends with it, e.g. "/messages";
	// "" matches every call.
	Path string
	// PageID matches calls made with that page's token or on that page;
	// "" matches every page.
	PageID string
	// Status is the HTTP status; 0 picks Meta's status for the code.
	Status int
	// Code and Subcode are the Graph error code and subcode.
	Code, Subcode int
	// Message defaults to Meta's message for the code; Type to
	// "OAuthException".
	Message, Type string
	// Times is how many calls fail; 0 means every matching call.
	Times int
}

type rule struct {
	ErrorRule
	left int // calls still to fail; -1 forever
}

type rateWindow struct {
	sec   int64
	count int
}

// inject holds injected behaviour. Guarded by Sim.mu.
type inject struct {
	rules   []*rule
	latency map[string]time.Duration
	rateMax int
	rate    map[string]*rateWindow // page ID → current one-second window
}

func (in *inject) init() {
	in.latency = map[string]time.Duration{}
	in.rate = map[string]*rateWindow{}
}

// InjectError adds a rule: matching calls that pass authentication fail
// with the rule's error instead of being served. Rules are tried in the
// order they were added.
func (s *Sim) InjectError(r ErrorRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := r.Times
	if left <= 0 {
		left = -1
	}
	s.rules = append(s.rules, &rule{ErrorRule: r, left: left})
}

// SetLatency delays the answers to calls whose path ends with suffix by d
// (0 removes it). The call is processed first (a send is recorded and
// echoed) and its answer held back, as a slow Meta does; concurrent calls
// wait in parallel. The longest matching suffix wins.
func (s *Sim) SetLatency(suffix string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.latency, suffix)
		return
	}
	s.latency[suffix] = d
}

// SetRateLimit limits Send API calls to perPagePerSecond per page in each
// second of the simulator's clock; excess calls fail with error 613. 0
// removes the limit.
func (s *Sim) SetRateLimit(perPagePerSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateMax = perPagePerSecond
	s.rate = map[string]*rateWindow{}
}

// Reset removes every injected error, latency and rate limit. The world
// (users, pages, people, tokens, windows) and the records stay.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
	s.latency = map[string]time.Duration{}
	s.rateMax = 0
	s.rate = map[string]*rateWindow{}
}

// injected returns the error of the first rule matching the call, and
// consumes one of its Times. Callers hold s.mu.
func (s *Sim) injected(path, pageID string) *apiError {
	for i, r := range s.rules {
		if r.Path != "" && !strings.HasSuffix(path, r.Path) {
			continue
		}
		if r.PageID != "" && r.PageID != pageID {
			continue
		}
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
			}
		}
		e := &apiError{status: r.Status, typ: r.Type, code: r.Code, subcode: r.Subcode, message: r.Message}
		if e.status == 0 {
			e.status = statusFor(e.code)
		}
		if e.typ == "" {
			e.typ = "OAuthException"
		}
		if e.message == "" {
			e.message = defaultMessage(e.code, e.subcode)
		}
		e.transient = isTransient(e.code)
		return e
	}
	return nil
}

// latencyFor returns the delay for a path. Callers hold s.mu.
func (s *Sim) latencyFor(path string) time.Duration {
	best, d := -1, time.Duration(0)
	for suffix, l := range s.latency {
		if strings.HasSuffix(path, suffix) && len(suffix) > best {
			best, d = len(suffix), l
		}
	}
	return d
}

// overRate counts one Send API call for the page and reports whether it
// exceeds the limit. Callers hold s.mu.
func (s *Sim) overRate(pageID string, now time.Time) bool {
	if s.rateMax <= 0 {
		return false
	}
	sec := now.Unix()
	w := s.rate[pageID]
	if w == nil || w.sec != sec {
		w = &rateWindow{sec: sec}
		s.rate[pageID] = w
	}
	w.count++
	return w.count > s.rateMax
}

// hold waits d unless the request or the simulator ends first.
func (s *Sim) hold(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	s.held.add(1)
	defer s.held.add(-1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.life.Done():
	}
}
