package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/job"
)

// handleProfile runs a "contact.profile" job.
func (s *Service) handleProfile(ctx context.Context, j *job.Job) error {
	var p idJob
	if err := j.Decode(&p); err != nil {
		return err
	}
	return s.fetchProfile(ctx, p, j.Attempts >= profileMaxAttempts)
}

// fetchProfile asks the platform for a contact's profile and stores it
// (promise P-14). Failures are tolerated: a transient one is retried with
// the job's backoff; a lasting one, or the last attempt, marks the profile
// unavailable, which contact.ProfileDue retries a day later, on the
// person's next message. Either outcome, once stored, is told to
// Options.OnProfile.
func (s *Service) fetchProfile(ctx context.Context, p idJob, last bool) error {
	ct, err := s.opt.Contacts.Get(ctx, p.WS, p.ID)
	if errors.Is(err, db.ErrNotFound) {
		return nil // erased meanwhile
	}
	if err != nil {
		return fmt.Errorf("inbox: fetch profile: %w", err)
	}
	if !ct.ProfileDue(s.now()) {
		return nil // fetched by an earlier job
	}
	ch, err := s.opt.Channels.Get(ctx, p.WS, ct.ChannelID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inbox: fetch profile: %w", err)
	}
	fetcher := s.opt.Profiles[ch.Type]
	if fetcher == nil {
		return nil
	}
	// store records the outcome and tells the listener; a contact erased
	// meanwhile has nobody waiting for it.
	store := func(prof channel.Profile, state contact.ProfileState) error {
		err := s.opt.Contacts.SetProfile(ctx, p.WS, p.ID, prof, state)
		if errors.Is(err, db.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("inbox: fetch profile: %w", err)
		}
		s.profileSettled(ctx, p.WS, ch.ID, p.ID)
		if state == contact.ProfileFetched {
			s.profileChanged(ctx, ch, p.ID)
		}
		return nil
	}
	unavailable := func() error { return store(channel.Profile{}, contact.ProfileUnavailable) }
	token, err := s.opt.Channels.Token(ctx, ch)
	if errors.Is(err, channel.ErrNoToken) {
		return unavailable()
	}
	if err != nil {
		return fmt.Errorf("inbox: fetch profile: %w", err)
	}
	prof, err := fetcher.Profile(ctx, ch, token, ct.ExternalID)
	if err == nil {
		return store(prof, contact.ProfileFetched)
	}
	var se *channel.SendError
	if !errors.As(err, &se) {
		se = &channel.SendError{Kind: channel.ErrTransient, Message: "unclassified profile failure"}
	}
	switch {
	case se.Kind == channel.ErrTokenInvalid:
		if err := s.opt.Channels.MarkNeedsReconnect(ctx, ch.WorkspaceID, ch.ID, se.Message); err != nil {
			return fmt.Errorf("inbox: fetch profile: %w", err)
		}
		return unavailable()
	case se.Retryable() || se.Kind == channel.ErrUncertain:
		// Reading a profile twice is harmless, so an uncertain failure is
		// simply retried.
		if last {
			return unavailable()
		}
		if se.RetryAfter > 0 {
			return job.RetryAfter(se.RetryAfter, fmt.Errorf("inbox: fetch profile: %w", se))
		}
		return fmt.Errorf("inbox: fetch profile: %w", se)
	default:
		// No profile for this person (2018218), no permission: asking again
		// now will not help.
		return unavailable()
	}
}

// profileSettled tells Options.OnProfile that a contact's profile fetch
// has ended. The profile is stored whatever the listener says, so its
// failure is only logged: whoever waits has a timeout of its own (the flow
// runner's is a durable job).
func (s *Service) profileSettled(ctx context.Context, ws, channelID, contactID string) {
	if s.opt.OnProfile == nil {
		return
	}
	if err := s.opt.OnProfile.ProfileSettled(ctx, ws, channelID, contactID); err != nil {
		s.log.Warn("profile listener failed", "workspace", ws, "contact", contactID, "err", err)
	}
}

// profileChanged tells Options.Changed that the contact's conversation on
// ch now shows a name: lists and open conversations refresh it.
func (s *Service) profileChanged(ctx context.Context, ch channel.Channel, contactID string) {
	if s.opt.Changed == nil {
		return
	}
	var convID string
	err := s.d.R.NewRaw(`SELECT id FROM conversations WHERE channel_id = ? AND contact_id = ? AND workspace_id = ?`,
		ch.ID, contactID, ch.WorkspaceID).Scan(ctx, &convID)
	if err != nil {
		if !errors.Is(db.NoRows(err), db.ErrNotFound) {
			s.log.Warn("find conversation of a fetched profile", "contact", contactID, "err", err)
		}
		return
	}
	s.changed(ctx, Change{Kind: ChangeConversation, WorkspaceID: ch.WorkspaceID, ConversationID: convID, ContactID: contactID})
}
