package webhook

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/channel/messenger"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/keyring"
)

// objectPage is the webhook object of Messenger (Page) events, the only one
// this route handles for now.
const objectPage = "page"

// errPaused is the retry reason of a processing job while paused.
var errPaused = errors.New("webhook: processing is paused")

// Quarantine reasons. They describe the delivery, never its content.
const (
	reasonSealed = "the stored body does not open"
	reasonParse  = "the body is not a Messenger webhook payload (not JSON, or not the expected shape)"
)

// storedDelivery is a row about to be processed.
type storedDelivery struct {
	ID   string `bun:"id"`
	Body []byte `bun:"body"`
}

// applied is what one processing transaction did, reported after commit.
type applied struct {
	effects     inbox.Effects
	quarantined int
	unknown     int // accounts no workspace connected
}

// process is the "webhook.process" job: it applies the deliveries one
// store transaction wrote, in one transaction of its own, then wakes the
// queues that got work from it. A retry after a crash finds the deliveries
// already applied gone and skips them; events applied twice after a lost
// commit acknowledgement are deduplicated by the inbox.
func (in *Intake) process(ctx context.Context, j *job.Job) error {
	if in.opt.Paused != nil && in.opt.Paused() {
		// Nothing is touched: the deliveries wait in order, and so do the
		// jobs behind this one (they share its ordering key).
		return job.RetryAfter(in.opt.PauseRetry, errPaused)
	}
	var p processPayload
	if err := j.Decode(&p); err != nil {
		return err
	}
	if len(p.IDs) == 0 {
		return nil
	}
	var res applied
	err := in.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// An inbound message and its reply are sealed for the same
		// contact: the contact's key is read once per transaction.
		ctx = keyring.WithTxKeys(ctx)
		var err error
		res, err = in.apply(ctx, tx, p.IDs)
		return err
	})
	if err != nil {
		return fmt.Errorf("webhook: process: %w", err)
	}
	in.opt.Inbox.Notify(res.effects)
	for range res.quarantined {
		in.observe(OutcomeQuarantined)
	}
	for range res.unknown {
		in.observe(OutcomeUnknownPage)
	}
	return nil
}

// apply processes the listed deliveries that are still pending, through tx.
func (in *Intake) apply(ctx context.Context, tx bun.Tx, ids []string) (applied, error) {
	var res applied
	rows, err := in.deliveries.load(ctx, tx, ids)
	if err != nil {
		return res, err
	}
	// Events are grouped by account across the whole batch, keeping their
	// order, so each connected account gets one Ingest call.
	var (
		accounts []string
		events   = map[string][]channel.Inbound{}
		done     []string
	)
	for _, row := range rows {
		raw, err := in.opt.Master.OpenPlatform(row.Body, bodyAAD(row.ID))
		if errors.Is(err, keyring.ErrUnknownKey) {
			// Sealed under another master key: this process is
			// misconfigured, the delivery is fine. Retry, change nothing.
			return res, fmt.Errorf("open delivery %s: %w", row.ID, err)
		}
		if err != nil {
			if err := quarantine(ctx, tx, row.ID, reasonSealed); err != nil {
				return res, err
			}
			res.quarantined++
			continue
		}
		b, err := messenger.Parse(raw)
		clear(raw)
		if err != nil || b.Object != objectPage {
			if err := quarantine(ctx, tx, row.ID, parseReason(b, err)); err != nil {
				return res, err
			}
			res.quarantined++
			continue
		}
		for _, ev := range b.Events {
			if ev.AccountID == "" {
				continue // routes nowhere; the adapter should not produce it
			}
			if _, ok := events[ev.AccountID]; !ok {
				accounts = append(accounts, ev.AccountID)
			}
			events[ev.AccountID] = append(events[ev.AccountID], ev)
		}
		done = append(done, row.ID)
	}
	now := in.now()
	var touched []string
	for _, acct := range accounts {
		evs := events[acct]
		ch, err := in.opt.Channels.ByAccount(ctx, tx, channel.Messenger, acct)
		if errors.Is(err, db.ErrNotFound) {
			// Nobody connected this Page: keep a count, drop the content
			// (security.md G-13).
			if err := in.opt.Channels.RecordUnknown(ctx, tx, objectPage, acct, len(evs), now); err != nil {
				return res, err
			}
			res.unknown++
			continue
		}
		if err != nil {
			return res, err
		}
		eff, err := in.opt.Inbox.Ingest(ctx, tx, ch, evs)
		if err != nil {
			return res, fmt.Errorf("ingest for channel %s: %w", ch.ID, err)
		}
		res.effects = res.effects.Add(eff)
		touched = append(touched, ch.ID)
	}
	if err := in.opt.Channels.Touch(ctx, tx, now, touched...); err != nil {
		return res, err
	}
	if len(done) > 0 {
		if err := in.deliveries.remove(ctx, tx, done); err != nil {
			return res, err
		}
	}
	return res, nil
}

// quarantine sets a delivery aside with the reason; it stays for an
// operator (and retention) and is never retried.
func quarantine(ctx context.Context, tx bun.Tx, id, reason string) error {
	if _, err := tx.NewRaw(`UPDATE webhook_deliveries SET state = 'quarantined', error = ? WHERE id = ?`, reason, id).Exec(ctx); err != nil {
		return fmt.Errorf("quarantine delivery: %w", err)
	}
	return nil
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
