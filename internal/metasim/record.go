package metasim

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Call is one HTTP request the simulator answered (Graph API, dialog).
type Call struct {
	Method string
	Path   string
	// Query is the query string exactly as received, token included if
	// the client put it there (tests assert it did not).
	Query url.Values
	Body  []byte
	// TokenSource says where the access token came from: "header"
	// (Authorization: Bearer), "query", "form", "body" (JSON) or "".
	TokenSource string
	// PageID and UserID identify the token's page or user ("" when the
	// token was missing or unknown).
	PageID, UserID string
	// ProofOK reports that a correct appsecret_proof came with the call.
	ProofOK bool
	// Status is the HTTP status answered; ErrorCode the Graph error code
	// (0 on success).
	Status    int
	ErrorCode int
	At        time.Time
}

// Sent is one message accepted by the Send API.
type Sent struct {
	PageID           string
	PSID             string
	MessagingType    string
	Tag              string
	Message          json.RawMessage // the "message" object as sent, compacted
	MID              string
	Metadata         string
	ReplyTo          string
	NotificationType string
	At               time.Time
}

// Action is one sender action (typing_on, typing_off, mark_seen) accepted
// by the Send API.
type Action struct {
	PageID, PSID, Action string
	At                   time.Time
}

// Failure is a webhook the simulator gave up delivering.
type Failure struct {
	Body     []byte
	Attempts int
	// Status is the last HTTP status Parley answered (0 if the last
	// attempt failed in transport); Err the last transport error.
	Status int
	Err    string
	At     time.Time
}

// records holds what the simulator observed. Guarded by Sim.mu.
type records struct {
	calls        []Call
	sent         []Sent
	sentCount    map[string]int // per page ID; "" counts every page
	actions      []Action
	failures     []Failure
	lastDelivery []byte
	pending      int // background webhook deliveries in progress
}

// Calls returns every Graph API and dialog request answered so far, in
// order.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Sent returns the messages the Send API accepted for the page, in order;
// pageID "" means every page.
func (s *Sim) Sent(pageID string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentFor(pageID)
}

func (s *Sim) sentFor(pageID string) []Sent {
	var out []Sent
	for _, m := range s.sent {
		if pageID == "" || m.PageID == pageID {
			out = append(out, m)
		}
	}
	return out
}

// WaitSent blocks until the Send API has accepted at least n messages for
// the page (pageID "" means any page) and returns them all, or returns
// ctx's error.
func (s *Sim) WaitSent(ctx context.Context, pageID string, n int) ([]Sent, error) {
	var out []Sent
	err := s.waitFor(ctx, func() bool {
		if s.sentCount[pageID] < n {
			return false
		}
		out = s.sentFor(pageID)
		return true
	})
	if err != nil {
		return s.Sent(pageID), err
	}
	return out, nil
}

// Actions returns the sender actions the Send API accepted for the page
// ("" means every page).
func (s *Sim) Actions(pageID string) []Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Action
	for _, a := range s.actions {
		if pageID == "" || a.PageID == pageID {
			out = append(out, a)
		}
	}
	return out
}

// Failures returns the webhooks given up after their retries.
func (s *Sim) Failures() []Failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.failures)
}

// WaitIdle blocks until no webhook is being delivered in the background
// (echoes, redeliveries), or returns ctx's error.
func (s *Sim) WaitIdle(ctx context.Context) error {
	return s.waitFor(ctx, func() bool { return s.pending == 0 })
}

// Held returns how many Graph answers SetLatency is holding back right
// now.
func (s *Sim) Held() int {
	s.held.mu.Lock()
	defer s.held.mu.Unlock()
	return s.held.n
}

// WaitHeld blocks until at least n answers are held back by SetLatency at
// the same time, or returns ctx's error. It proves a client sends in
// parallel: a serial client never has two calls held at once.
func (s *Sim) WaitHeld(ctx context.Context, n int) error {
	for {
		s.held.mu.Lock()
		if s.held.n >= n {
			s.held.mu.Unlock()
			return nil
		}
		ch := s.held.changed
		s.held.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// heldCounter counts answers held back by SetLatency. It has its own lock
// so that waiting on it never depends on Sim.mu.
type heldCounter struct {
	mu      sync.Mutex
	n       int
	changed chan struct{}
}

func (h *heldCounter) add(d int) {
	h.mu.Lock()
	h.n += d
	if h.changed != nil {
		close(h.changed)
	}
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

// Subscriptions returns the fields the app is subscribed to on the page
// (nil when it is not subscribed).
func (s *Sim) Subscriptions(pageID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pg := s.pages[pageID]; pg != nil {
		return slices.Clone(pg.subscribed)
	}
	return nil
}

// Profile returns the page's Messenger Profile settings as one JSON
// object ({} when none is set, nil for an unknown page).
func (s *Sim) Profile(pageID string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	pg := s.pages[pageID]
	if pg == nil {
		return nil
	}
	b, _ := rawJSON(profileObject(pg, profileFields))
	return b
}
