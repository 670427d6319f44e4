package metasim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// encodeBatch groups consecutive events of the same page (and channel:
// messaging or standby) into one entry, as Meta batches, and serialises
// them in Meta's escaped form unless an event asked for RawUTF8.
func encodeBatch(events []Event, now time.Time) ([]byte, error) {
	env := envelope{Object: "page"}
	raw := false
	nowMS := now.UnixMilli()
	for _, e := range events {
		raw = raw || e.o.raw
		ts := nowMS
		if !e.o.at.IsZero() {
			ts = e.o.at.UnixMilli()
		}
		it := e.item(ts, now)
		n := len(env.Entry)
		if n == 0 || env.Entry[n-1].ID != e.pageID || (len(env.Entry[n-1].Standby) > 0) != e.o.standby {
			env.Entry = append(env.Entry, entry{ID: e.pageID, Time: nowMS})
			n++
		}
		last := &env.Entry[n-1]
		if e.o.standby {
			last.Standby = append(last.Standby, it)
		} else {
			last.Messaging = append(last.Messaging, it)
		}
	}
	if raw {
		return rawJSON(env)
	}
	return MetaJSON(env)
}

// Batch delivers several events in one signed POST (several entries when
// they concern several pages), returning each event's message ID ("" for
// events without one) and the HTTP status Parley answered. Events that
// open the messaging window open it even if the delivery fails: the
// person did act.
func (s *Sim) Batch(ctx context.Context, events ...Event) ([]string, int, error) {
	if len(events) == 0 {
		return nil, 0, errors.New("metasim: batch: no events")
	}
	s.mu.Lock()
	now := s.now()
	mids := make([]string, len(events))
	for i, e := range events {
		pg := s.pages[e.pageID]
		if pg == nil {
			s.mu.Unlock()
			return nil, 0, fmt.Errorf("metasim: batch: unknown page %q", e.pageID)
		}
		if pg.people[e.psid] == nil {
			s.mu.Unlock()
			return nil, 0, fmt.Errorf("metasim: batch: unknown person %q on page %s", e.psid, e.pageID)
		}
		if s.enforceSubs && !slices.Contains(pg.subscribed, e.field()) {
			s.mu.Unlock()
			return nil, 0, fmt.Errorf("%w: page %s, field %s", ErrNotSubscribed, e.pageID, e.field())
		}
		mids[i] = e.mid
	}
	for _, e := range events {
		pg := s.pages[e.pageID]
		if e.mid != "" {
			pg.mids[e.mid] = e.psid
		}
		if e.opens() {
			at := now
			if !e.o.at.IsZero() {
				at = e.o.at
			}
			pg.people[e.psid].noteInbound(at)
		}
	}
	s.mu.Unlock()
	body, err := encodeBatch(events, now)
	if err != nil {
		return nil, 0, fmt.Errorf("metasim: batch: %w", err)
	}
	status, err := s.deliverNow(ctx, body)
	return mids, status, err
}

func (s *Sim) one(ctx context.Context, e Event) (string, int, error) {
	mids, status, err := s.Batch(ctx, e)
	if len(mids) == 0 {
		return "", status, err
	}
	return mids[0], status, err
}

// SendText plays the person psid sending text to the page: a signed
// messages webhook. It returns the message ID and the HTTP status Parley
// answered.
func (s *Sim) SendText(ctx context.Context, pageID, psid, text string, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, TextEvent(pageID, psid, text, opts...))
}

// SendAttachment plays the person sending an attachment (image, video,
// audio, file) at url.
func (s *Sim) SendAttachment(ctx context.Context, pageID, psid, typ, url string, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, AttachmentEvent(pageID, psid, typ, url, opts...))
}

// Postback plays the person tapping a button (ref: the m.me referral that
// came with a Get Started tap, or nil).
func (s *Sim) Postback(ctx context.Context, pageID, psid, title, payload string, ref *Referral, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, PostbackEvent(pageID, psid, title, payload, ref, opts...))
}

// Referral plays the person opening the thread from an m.me link or an
// ad. The mid is always "".
func (s *Sim) Referral(ctx context.Context, pageID, psid string, ref Referral, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, ReferralEvent(pageID, psid, ref, opts...))
}

// Optin plays a plugin opt-in with ref. The mid is always "".
func (s *Sim) Optin(ctx context.Context, pageID, psid, ref string, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, OptinEvent(pageID, psid, ref, opts...))
}

// Reaction plays the person reacting with emoji to the message mid. The
// returned mid is always "".
func (s *Sim) Reaction(ctx context.Context, pageID, psid, mid, emoji string, opts ...EventOption) (string, int, error) {
	return s.one(ctx, ReactionEvent(pageID, psid, mid, emoji, opts...))
}

// Read plays the person reading every message before watermark. The mid
// is always "".
func (s *Sim) Read(ctx context.Context, pageID, psid string, watermark time.Time, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, ReadEvent(pageID, psid, watermark, opts...))
}

// Delivered plays Messenger confirming delivery of mids (and of every
// message before watermark). The mid is always "".
func (s *Sim) Delivered(ctx context.Context, pageID, psid string, mids []string, watermark time.Time, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, DeliveryEvent(pageID, psid, mids, watermark, opts...))
}

// HumanEcho plays a person replying to psid from Meta's Page inbox: an
// echo whose app_id is not Parley's.
func (s *Sim) HumanEcho(ctx context.Context, pageID, psid, text string, opts ...EventOption) (mid string, status int, err error) {
	return s.one(ctx, HumanEchoEvent(pageID, psid, text, opts...))
}
