package webhook

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/messenger"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/keyring"
)

// objectPage is the webhook object of Messenger (Page) events, the only one
// this route handles for now.
const objectPage = "page"

// Quarantine reasons. They describe the delivery, never its content.
const (
	reasonSealed = "the stored body does not open"
	reasonParse  = "the body is not a Messenger webhook payload (not JSON, or not the expected shape)"
)

// item is one stored delivery on its way to processing: its ID and its
// body, in clear when the writer handed it over, sealed when it was read
// back from the database.
type item struct {
	id     string
	raw    []byte
	sealed []byte
}

// parsed is a delivery ready for the processing transaction: its events,
// or why it must be quarantined.
type parsed struct {
	id     string
	events []channel.Inbound
	reason string // set: quarantine it
}

// applied is what one processing transaction did, reported after commit.
type applied struct {
	effects     inbox.Effects
	claimed     []string // the deliveries it applied (deleted)
	quarantined int
	unknown     int // accounts no workspace connected
}

// processChunk applies items, at most Options.ApplyMax of them in store
// order, in one transaction: the writer is held only that long, so
// acknowledgements stay fast while a backlog drains. Bodies are opened and
// parsed before the transaction begins, for the same reason. After the
// commit it starts what the inbox asked for and reports the outcomes; it
// returns the IDs it applied. A panic (a driver or parser bug) fails the
// chunk like an error instead of killing the processor.
//
// held are the workspaces whose processing is paused (Options.Held, as
// the processor read it for this round): deliveries naming one are set
// aside, not applied.
func (in *Intake) processChunk(items []item, held map[string]bool) (claimed []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			in.log.Error("webhook processing panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			claimed, err = nil, fmt.Errorf("webhook: process: panic: %v", p)
		}
	}()
	ps, err := in.parse(items)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	var res applied
	in.first.process()
	err = in.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res = applied{}
		if err := in.deliveries.lock(ctx, tx); err != nil {
			return err
		}
		if hook := in.beforeApply.Load(); hook != nil {
			if err := (*hook)(tx); err != nil {
				return err
			}
		}
		// An inbound message and its reply are sealed for the same
		// contact: the contact's key is read once per transaction.
		return in.apply(keyring.WithTxKeys(ctx), tx, ps, held, &res)
	})
	if err != nil {
		return nil, fmt.Errorf("webhook: process %d deliveries: %w", len(items), err)
	}
	in.opt.Inbox.Notify(res.effects)
	for range res.quarantined {
		in.observe(OutcomeQuarantined)
	}
	for range res.unknown {
		in.observe(OutcomeUnknownPage)
	}
	return res.claimed, nil
}

// parse opens (when sealed) and parses each item. A body that cannot be
// processed is marked for quarantine: Meta got its 200 and must not be
// asked again. Plaintext is wiped once parsed.
func (in *Intake) parse(items []item) ([]parsed, error) {
	out := make([]parsed, 0, len(items))
	for _, it := range items {
		raw := it.raw
		if raw == nil {
			var err error
			raw, err = in.opt.Master.OpenPlatform(it.sealed, bodyAAD(it.id))
			if errors.Is(err, keyring.ErrUnknownKey) {
				// Sealed under another master key: this process is
				// misconfigured, the delivery is fine. Retry, change
				// nothing.
				return nil, fmt.Errorf("webhook: open delivery %s: %w", it.id, err)
			}
			if err != nil {
				out = append(out, parsed{id: it.id, reason: reasonSealed})
				continue
			}
		}
		b, err := messenger.Parse(raw)
		clear(raw)
		if err != nil || b.Object != objectPage {
			out = append(out, parsed{id: it.id, reason: parseReason(b, err)})
			continue
		}
		out = append(out, parsed{id: it.id, events: b.Events})
	}
	return out, nil
}

// apply runs inside the processing transaction. It claims first — sets
// aside the deliveries that do not parse and deletes the others, each only
// while still pending — and then applies the events of exactly the
// deliveries it deleted, so one that another transaction got to first (a
// replica, a catch-up read) is never applied twice.
func (in *Intake) apply(ctx context.Context, tx bun.Tx, ps []parsed, held map[string]bool, res *applied) error {
	good := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.reason == "" {
			good = append(good, p.id)
			continue
		}
		ok, err := in.deliveries.quarantine(ctx, tx, p.id, p.reason)
		if err != nil {
			return err
		}
		if ok {
			res.quarantined++
		}
	}
	// Channels are looked up once per account and transaction (and
	// remembered for a moment across them: channel.Store.Route).
	chans := map[string]lookup{}
	byAccount := func(acct string) (channel.Channel, error) {
		l, ok := chans[acct]
		if !ok {
			l.ch, l.err = in.opt.Channels.Route(ctx, tx, channel.Messenger, acct)
			chans[acct] = l
		}
		return l.ch, l.err
	}
	if len(held) > 0 {
		var err error
		if good, err = in.holdBack(ctx, tx, ps, good, held, byAccount); err != nil {
			return err
		}
	}
	if len(good) == 0 {
		return nil
	}
	won, err := in.deliveries.claim(ctx, tx, good)
	if err != nil {
		return err
	}
	// Events are grouped by account across the chunk, keeping their
	// order, so each connected account gets one Ingest call.
	var (
		accounts []string
		events   = map[string][]channel.Inbound{}
	)
	for _, p := range ps {
		if !won[p.id] {
			continue
		}
		res.claimed = append(res.claimed, p.id)
		for _, ev := range p.events {
			if ev.AccountID == "" {
				continue // routes nowhere; the adapter should not produce it
			}
			if _, ok := events[ev.AccountID]; !ok {
				accounts = append(accounts, ev.AccountID)
			}
			events[ev.AccountID] = append(events[ev.AccountID], ev)
		}
	}
	now := in.now()
	var touched []string
	for _, acct := range accounts {
		evs := events[acct]
		ch, err := byAccount(acct)
		if errors.Is(err, db.ErrNotFound) {
			// Nobody connected this Page: keep a count, drop the content
			// (security.md G-13).
			if err := in.opt.Channels.RecordUnknown(ctx, tx, objectPage, acct, len(evs), now); err != nil {
				return err
			}
			res.unknown++
			continue
		}
		if err != nil {
			return err
		}
		eff, err := in.opt.Inbox.Ingest(ctx, tx, ch, evs)
		if err != nil {
			return fmt.Errorf("ingest for channel %s: %w", ch.ID, err)
		}
		res.effects = res.effects.Add(eff)
		touched = append(touched, ch.ID)
	}
	return in.opt.Channels.Touch(ctx, tx, now, touched...)
}

// lookup is a channel looked up by account, or why not.
type lookup struct {
	ch  channel.Channel
	err error
}

// holdBack sets aside (sqlHold) each delivery of good with an event for a
// workspace in held, and returns the others. A delivery naming several
// workspaces is held whole for the first held one: it cannot be applied
// in part, and a paused workspace must see none of its events applied.
// When that workspace resumes, the delivery is looked at again (and held
// for another one, if that is still paused).
func (in *Intake) holdBack(ctx context.Context, tx bun.Tx, ps []parsed, good []string, held map[string]bool,
	byAccount func(string) (channel.Channel, error)) ([]string, error) {
	hold := map[string]string{} // delivery → workspace
	for _, p := range ps {
		if p.reason != "" {
			continue
		}
		for _, ev := range p.events {
			if ev.AccountID == "" {
				continue
			}
			ch, err := byAccount(ev.AccountID)
			if errors.Is(err, db.ErrNotFound) {
				continue // dropped as unknown later
			}
			if err != nil {
				return nil, err
			}
			if held[ch.WorkspaceID] {
				hold[p.id] = ch.WorkspaceID
				break
			}
		}
	}
	if len(hold) == 0 {
		return good, nil
	}
	rest := good[:0:0]
	for _, id := range good {
		ws, ok := hold[id]
		if !ok {
			rest = append(rest, id)
			continue
		}
		if _, err := in.deliveries.hold(ctx, tx, id, ws); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// parseReason says why Parse refused a body. The adapter's PayloadError
// reasons are fixed phrases; anything else gets a generic one, since an
// error message might quote the body.
func parseReason(b messenger.Batch, err error) string {
	var pe *messenger.PayloadError
	switch {
	case errors.As(err, &pe):
		return "not a Messenger webhook: " + pe.Reason
	case err != nil:
		return reasonParse
	}
	return objectReason(b.Object)
}

// objectReason names an unhandled object when it looks like one of Meta's
// (lower-case words), and stays vague otherwise: the reason is shown to
// operators, so it carries nothing a sender could choose freely.
func objectReason(object string) string {
	ok := object != "" && len(object) <= 40
	for i := 0; ok && i < len(object); i++ {
		c := object[i]
		ok = c >= 'a' && c <= 'z' || c == '_'
	}
	if !ok {
		return "the body's object is missing or not one this route handles"
	}
	return fmt.Sprintf("object %q is not handled on this route", object)
}
