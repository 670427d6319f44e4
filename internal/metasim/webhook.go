package metasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// ErrNoWebhookURL is returned when a webhook should be delivered but no
// WebhookURL is set.
var ErrNoWebhookURL = errors.New("metasim: no webhook URL set")

// ErrNotSubscribed is returned, with Options.EnforceSubscriptions, when an
// event is for a page whose app subscription lacks the event's field: Meta
// would not deliver it.
var ErrNotSubscribed = errors.New("metasim: page not subscribed to this webhook field")

// accepted reports whether Meta would consider a delivery done.
func accepted(status int, err error) bool { return err == nil && status >= 200 && status < 300 }

// post sends one signed webhook POST, as Meta does: JSON body,
// X-Hub-Signature-256 (and the legacy SHA-1 header), bounded time.
func (s *Sim) post(ctx context.Context, target string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.hookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("metasim: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Signature256(s.appSecret, body))
	req.Header.Set("X-Hub-Signature", Signature1(s.appSecret, body))
	req.Header.Set("User-Agent", "facebookexternalua")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("metasim: webhook: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// deliverNow posts a body the test asked for and returns Parley's answer.
// A failed delivery keeps being retried in the background, like Meta's.
func (s *Sim) deliverNow(ctx context.Context, body []byte) (int, error) {
	s.mu.Lock()
	target := s.hookURL
	s.lastDelivery = body
	s.mu.Unlock()
	if target == "" {
		return 0, ErrNoWebhookURL
	}
	status, err := s.post(ctx, target, body)
	if accepted(status, err) || ctx.Err() != nil {
		// A cancelled caller abandoned the delivery: nothing to retry.
		return status, err
	}
	s.spawn(func() { s.redeliver(target, body, 1, status, err) })
	return status, err
}

// deliverAsync posts a webhook the simulator emits on its own (echoes).
func (s *Sim) deliverAsync(body []byte) {
	s.mu.Lock()
	target := s.hookURL
	s.mu.Unlock()
	if target == "" {
		return
	}
	s.spawn(func() {
		status, err := s.post(s.life, target, body)
		if !accepted(status, err) {
			s.redeliver(target, body, 1, status, err)
		}
	})
}

// redeliver retries a failed delivery on the RetryDelays schedule and
// records a Failure when it gives up.
func (s *Sim) redeliver(target string, body []byte, attempts, status int, err error) {
	if !s.noRetries {
		for _, d := range s.retryDelays {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-s.life.Done():
				t.Stop()
				return
			}
			status, err = s.post(s.life, target, body)
			attempts++
			if accepted(status, err) {
				return
			}
			if s.life.Err() != nil {
				return
			}
		}
	}
	f := Failure{Body: body, Attempts: attempts, Status: status, At: s.now()}
	if err != nil {
		f.Err = err.Error()
	}
	s.log.Warn("metasim: webhook given up", "attempts", attempts, "status", status)
	s.mu.Lock()
	s.failures = append(s.failures, f)
	s.bump()
	s.mu.Unlock()
}

// Deliver signs body and POSTs it to the webhook URL exactly as given,
// returning the HTTP status Parley answered. Messenger events in it that
// open the messaging window (from known people) count as if the person
// had acted. A failed delivery is retried in the background.
func (s *Sim) Deliver(ctx context.Context, body []byte) (int, error) {
	s.noteRaw(body)
	return s.deliverNow(ctx, slices.Clone(body))
}

// Duplicate re-sends the last delivery made through Deliver, Batch or a
// play method (not echoes) byte for byte, as Meta's at-least-once
// delivery does.
func (s *Sim) Duplicate(ctx context.Context) (int, error) {
	s.mu.Lock()
	body := s.lastDelivery
	s.mu.Unlock()
	if body == nil {
		return 0, errors.New("metasim: duplicate: nothing delivered yet")
	}
	return s.deliverNow(ctx, body)
}

// Verify performs Meta's subscription handshake: a GET to the webhook URL
// with hub.mode=subscribe, hub.verify_token and a random hub.challenge.
// It reports whether Parley answered 200 with the challenge as the body.
func (s *Sim) Verify(ctx context.Context, verifyToken string) (bool, error) {
	target := s.WebhookURL()
	if target == "" {
		return false, ErrNoWebhookURL
	}
	u, err := url.Parse(target)
	if err != nil {
		return false, fmt.Errorf("metasim: verify: %w", err)
	}
	challenge := randDigits(10)
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.challenge", challenge)
	q.Set("hub.verify_token", verifyToken)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, s.hookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("metasim: verify: %w", err)
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	resp, err := s.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("metasim: verify: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return resp.StatusCode == http.StatusOK && string(b) == challenge, nil
}

// noteRaw learns from a body the test wrote itself: window openers and
// message IDs of known people.
func (s *Sim) noteRaw(body []byte) {
	var env struct {
		Object string `json:"object"`
		Entry  []struct {
			ID        string            `json:"id"`
			Messaging []json.RawMessage `json:"messaging"`
			Standby   []json.RawMessage `json:"standby"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &env) != nil || env.Object != "page" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, e := range env.Entry {
		pg := s.pages[e.ID]
		if pg == nil {
			continue
		}
		for _, raw := range append(e.Messaging, e.Standby...) {
			var it struct {
				Sender    idRef       `json:"sender"`
				Recipient idRef       `json:"recipient"`
				Timestamp json.Number `json:"timestamp"`
				Message   *struct {
					MID    string `json:"mid"`
					IsEcho bool   `json:"is_echo"`
				} `json:"message"`
				Postback json.RawMessage `json:"postback"`
				Referral json.RawMessage `json:"referral"`
				Reaction json.RawMessage `json:"reaction"`
				Optin    json.RawMessage `json:"optin"`
			}
			if json.Unmarshal(raw, &it) != nil {
				continue
			}
			at := now
			if ms, err := it.Timestamp.Int64(); err == nil && ms > 0 {
				at = time.UnixMilli(ms)
			}
			if it.Message != nil && it.Message.IsEcho {
				if pg.people[it.Recipient.ID] != nil && it.Message.MID != "" {
					pg.mids[it.Message.MID] = it.Recipient.ID
				}
				continue
			}
			pr := pg.people[it.Sender.ID]
			if pr == nil {
				continue
			}
			if it.Message != nil && it.Message.MID != "" {
				pg.mids[it.Message.MID] = pr.psid
			}
			if it.Message != nil || it.Postback != nil || it.Referral != nil || it.Reaction != nil || it.Optin != nil {
				pr.noteInbound(at)
			}
		}
	}
}
