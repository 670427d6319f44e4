package metacallback

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
)

// runDeletion carries out a deletion request. It is idempotent (a job may
// run twice): a channel already disconnected or a contact already erased
// counts as done, and a completed request is left alone.
func (s *Service) runDeletion(ctx context.Context, j *job.Job) error {
	var p deletionPayload
	if err := j.Decode(&p); err != nil {
		return job.Permanent(fmt.Errorf("metacallback: deletion: %w", err))
	}
	var subject, state string
	err := s.d.R.NewRaw(`SELECT asid_hash, state FROM meta_deletion_requests WHERE id = ?`, p.RequestID).Scan(ctx, &subject, &state)
	if err != nil {
		if errors.Is(db.NoRows(err), db.ErrNotFound) {
			return job.Permanent(fmt.Errorf("metacallback: deletion: request gone"))
		}
		return fmt.Errorf("metacallback: deletion: %w", err)
	}
	if State(state) == Completed {
		return nil
	}
	if err := s.setState(ctx, p.RequestID, InProgress); err != nil {
		return err
	}
	actor := system("meta-deletion:" + p.RequestID)
	if err := s.disconnectLinked(ctx, actor, subject, p.RequestID); err != nil {
		return err
	}
	if err := s.eraseLinked(ctx, actor, subject, p.RequestID); err != nil {
		return err
	}
	if err := s.eraseMatched(ctx, actor, p); err != nil {
		return err
	}
	if err := s.forget(ctx, subject); err != nil {
		return fmt.Errorf("metacallback: deletion: forget identities: %w", err)
	}
	return s.complete(ctx, actor, p.RequestID, subject)
}

// counted adds one to a request's count column as each step succeeds, so
// a run cut short and retried still reports everything it did. Nothing
// is counted without a request (deauthorize).
func (s *Service) counted(ctx context.Context, requestID, column string) error {
	if requestID == "" {
		return nil
	}
	q := `UPDATE meta_deletion_requests SET channels_disconnected = channels_disconnected + 1, updated_at = ? WHERE id = ?`
	if column == "contacts_erased" {
		q = `UPDATE meta_deletion_requests SET contacts_erased = contacts_erased + 1, updated_at = ? WHERE id = ?`
	}
	if _, err := s.d.W.NewRaw(q, s.opt.Now().UTC(), requestID).Exec(ctx); err != nil {
		return fmt.Errorf("metacallback: count %s: %w", column, err)
	}
	return nil
}

// disconnectLinked disconnects every active channel whose token came from
// the person, counting each on the request (if any).
func (s *Service) disconnectLinked(ctx context.Context, a audit.Actor, subject, requestID string) error {
	rows, err := s.links(ctx, subject)
	if err != nil {
		return fmt.Errorf("metacallback: linked channels: %w", err)
	}
	for _, r := range rows {
		if r.ChannelID == nil {
			continue
		}
		_, err := s.opt.Disconnect.Disconnect(ctx, a, r.WorkspaceID, *r.ChannelID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			// Already disconnected (by a member, or an earlier run).
			continue
		case err != nil:
			return fmt.Errorf("metacallback: disconnect channel: %w", err)
		}
		if err := audit.Record(ctx, s.d.W, s.opt.Now().UTC(), r.WorkspaceID, a, ActionDeauthorized, "channel", *r.ChannelID,
			map[string]string{"reason": "the Facebook user whose token it held asked Meta to remove Parley or delete their data"}); err != nil {
			return fmt.Errorf("metacallback: disconnect channel: %w", err)
		}
		if err := s.counted(ctx, requestID, "channels_disconnected"); err != nil {
			return err
		}
	}
	return nil
}

// eraseLinked erases the contacts the identity map links to the person.
func (s *Service) eraseLinked(ctx context.Context, a audit.Actor, subject, requestID string) error {
	rows, err := s.links(ctx, subject)
	if err != nil {
		return fmt.Errorf("metacallback: linked contacts: %w", err)
	}
	for _, r := range rows {
		if r.ContactID == nil {
			continue
		}
		if err := s.erase(ctx, a, r.WorkspaceID, *r.ContactID, requestID); err != nil {
			return err
		}
	}
	return nil
}

// eraseMatched asks Meta's ID matching for the person's page-scoped IDs
// and erases the contacts they name on Pages connected to Parley. ID
// matching answers only for Pages of the app's own business, and not at
// all when the app has no such business; a refusal is logged and the
// request completes with what the identity map reached.
func (s *Service) eraseMatched(ctx context.Context, a audit.Actor, p deletionPayload) error {
	if s.opt.Matcher == nil || s.opt.Channels == nil || s.opt.Contacts == nil || len(p.ASID) == 0 || s.opt.Eraser == nil {
		return nil
	}
	asid, err := s.opt.Master.OpenPlatform(p.ASID, asidAAD(p.RequestID))
	if err != nil {
		return job.Permanent(fmt.Errorf("metacallback: open sealed id: %w", err))
	}
	ids, err := s.opt.Matcher.IDsForPages(ctx, string(asid))
	if err != nil {
		s.opt.Log.Warn("metacallback: ID matching unavailable; only the identity map was used", "request", p.RequestID, "err", err)
		return nil
	}
	for _, id := range ids {
		ch, err := s.opt.Channels.ByAccount(ctx, s.d.R, channel.Messenger, id.PageID)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("metacallback: matched page: %w", err)
		}
		c, err := s.opt.Contacts.Lookup(ctx, s.d.R, ch, id.ID)
		if errors.Is(err, db.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("metacallback: matched contact: %w", err)
		}
		if err := s.erase(ctx, a, ch.WorkspaceID, c.ID, p.RequestID); err != nil {
			return err
		}
	}
	return nil
}

// erase erases one contact and counts it; a contact already gone counts
// as done (not again).
func (s *Service) erase(ctx context.Context, a audit.Actor, workspaceID, contactID, requestID string) error {
	if s.opt.Eraser == nil {
		s.opt.Log.Warn("metacallback: no contact eraser wired; linked contact kept", "workspace", workspaceID)
		return nil
	}
	err := s.opt.Eraser.EraseContact(ctx, a, workspaceID, contactID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("metacallback: erase contact: %w", err)
	}
	return s.counted(ctx, requestID, "contacts_erased")
}

func (s *Service) setState(ctx context.Context, id string, st State) error {
	_, err := s.d.W.NewRaw(`UPDATE meta_deletion_requests SET state = ?, updated_at = ? WHERE id = ? AND state <> 'completed'`,
		string(st), s.opt.Now().UTC(), id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("metacallback: request state: %w", err)
	}
	return nil
}

// complete marks the request completed and audit-logs it (platform entry,
// pseudonymous subject, the counts). The request forgets the person's
// hash: it was only needed to find an open request again, and a later
// callback for them opens a new one anyway.
func (s *Service) complete(ctx context.Context, a audit.Actor, id, subject string) error {
	now := s.opt.Now().UTC()
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var counts struct {
			Channels int `bun:"channels_disconnected"`
			Contacts int `bun:"contacts_erased"`
		}
		if err := tx.NewRaw(`SELECT channels_disconnected, contacts_erased FROM meta_deletion_requests WHERE id = ?`, id).Scan(ctx, &counts); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE meta_deletion_requests SET state = 'completed', asid_hash = '', completed_at = ?, updated_at = ?
			WHERE id = ? AND state <> 'completed'`, now, now, id).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, "", a, ActionDeletionCompleted, "meta_deletion_request", id,
			map[string]any{"subject": subject, "channels_disconnected": counts.Channels, "contacts_erased": counts.Contacts})
	})
	if err != nil {
		return fmt.Errorf("metacallback: complete: %w", err)
	}
	return nil
}

// deauthorizePayload is the deauthorize job's payload: the pseudonym only.
type deauthorizePayload struct {
	Subject string `json:"subject"`
}

// Deauthorize queues the disconnection of the channels whose token came
// from the Facebook user asid (who removed Parley's app). It is the
// deauthorize callback's work, durable and answered at once.
func (s *Service) Deauthorize(ctx context.Context, asid string) error {
	if s.asidKey == nil {
		return errNoMaster
	}
	if !validASID(asid) {
		return fmt.Errorf("metacallback: deauthorize: %w: bad app-scoped ID", ErrMalformed)
	}
	subject := s.HashASID(asid)
	if _, err := s.opt.Queue.Enqueue(ctx, s.d.W, KindDeauthorize, deauthorizePayload{Subject: subject}, job.Unique(KindDeauthorize+":"+subject)); err != nil {
		return fmt.Errorf("metacallback: deauthorize: %w", err)
	}
	return nil
}

// runDeauthorize disconnects the person's channels; their identity rows go
// with the channels' origin (the token is destroyed), contacts are kept:
// removing the app is not a deletion request.
func (s *Service) runDeauthorize(ctx context.Context, j *job.Job) error {
	var p deauthorizePayload
	if err := j.Decode(&p); err != nil || p.Subject == "" {
		return job.Permanent(fmt.Errorf("metacallback: deauthorize: bad payload"))
	}
	if err := s.disconnectLinked(ctx, system("meta-deauthorize"), p.Subject, ""); err != nil {
		return err
	}
	if _, err := s.d.W.NewRaw(`DELETE FROM meta_identities WHERE asid_hash = ? AND channel_id IS NOT NULL`, p.Subject).Exec(ctx); err != nil {
		return fmt.Errorf("metacallback: deauthorize: %w", err)
	}
	return nil
}
