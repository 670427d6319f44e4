package contact

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// Merging describes a merge in progress, for the Movers of other packages.
type Merging struct {
	WorkspaceID string
	// KeepID is the contact that stays; GoneID the one merged into it,
	// deleted (and its key destroyed) once every Mover has run.
	KeepID, GoneID string
	// By is who merges (ByActor of Merge's actor); At is when.
	By By
	At time.Time
}

// Mover re-points another package's rows of the gone contact to the kept
// one, inside the merge transaction tx, before the gone contact is deleted:
// whatever still refers to it then is deleted with it (ON DELETE CASCADE),
// and whatever is still sealed under its key becomes unreadable. A Mover
// that re-seals reads the gone contact's key through tx (it still exists)
// and seals under the kept contact's. package inbox's Service.MoveContact
// (conversations, messages) is one, adapted by the app; the app also
// records the "merge" activity entry in one (package activity imports
// contact, so contact cannot call it).
type Mover func(ctx context.Context, tx bun.Tx, m Merging) error

// ActionMerge is the audit action of a merge (target type "contact", the
// kept contact; details: the merged contact's ID, nothing personal).
const ActionMerge = "contact.merge"

// Merge makes the workspace's contacts keepID and goneID one person, keepID,
// in one transaction, and returns it (names opened):
//
//   - Channel identities: the gone contact's become the kept one's, so that
//     its PSIDs still find the person (Lookup) and replies still reach
//     them. A kept contact without any (Create) takes the gone one's first
//     identity, and its profile state, as its own first identity.
//   - Names and picture: the kept contact's, unless it has no name (then
//     the gone one's names) or no picture (then the gone one's), re-sealed
//     under the kept contact's key. Locale: the kept one's unless empty.
//   - Field values: the kept contact's win; the gone one's fill the fields
//     it has no value for, re-sealed under the kept contact's key (phone
//     values are indexed for ByPhone). Tags: the union.
//   - Lead stage: the kept contact's unless it has none.
//   - Subscription (the consent record, P-40): the last opt-in and the last
//     withdrawal of either are kept. The person stays subscribed only if
//     one of them is subscribed and no withdrawal of either is as late as
//     the last opt-in: a withdrawal on one channel after an opt-in on the
//     other keeps them unsubscribed, the protective reading of two records.
//   - Everything else that names the gone contact moves through movers,
//     run in order inside the transaction; conversations must be moved by
//     one of them (package inbox's), or they would be deleted with the gone
//     contact, so Merge refuses to run without any. Then the gone contact
//     is deleted and its key destroyed, so what was sealed under it and not
//     re-sealed is unreadable (P-33).
//
// The merge is audited (ActionMerge) as a's, and a is its author (ByActor)
// for the Movers.
//
// Refused with ErrInvalid: merging a contact with itself, or two contacts
// that both have an identity on the same channel (two PSIDs on one Page are
// two people to that Page; replies could not choose). A contact not in the
// workspace gets db.ErrNotFound. A refused merge changes nothing.
func (s *Store) Merge(ctx context.Context, a audit.Actor, workspaceID, keepID, goneID string, movers ...Mover) (Contact, error) {
	by := ByActor(a)
	if !by.valid() {
		return Contact{}, fmt.Errorf("contact: merge: author %q is not valid", by)
	}
	if len(movers) == 0 {
		return Contact{}, errors.New("contact: merge: no mover: the gone contact's conversations would be deleted")
	}
	if keepID == goneID {
		return Contact{}, fmt.Errorf("contact: merge: %w", invalid(errors.New("a contact cannot be merged with itself")))
	}
	var kept Contact
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		keep, gone, err := lockPair(ctx, tx, workspaceID, keepID, goneID, now)
		if err != nil {
			return err
		}
		if err := checkDisjoint(ctx, tx, workspaceID, keep, gone); err != nil {
			return err
		}
		m := Merging{WorkspaceID: workspaceID, KeepID: keepID, GoneID: goneID, By: by, At: now}
		for _, mv := range movers {
			if err := mv(ctx, tx, m); err != nil {
				return err
			}
		}
		if err := s.mergeValues(ctx, tx, workspaceID, keepID, goneID); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO contact_tags (contact_id, tag_id, workspace_id, created_by, created_at)
			SELECT ?, tag_id, workspace_id, created_by, created_at FROM contact_tags WHERE workspace_id = ? AND contact_id = ?
			ON CONFLICT (contact_id, tag_id) DO NOTHING`, keepID, workspaceID, goneID).Exec(ctx); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		set, err := s.mergedRow(ctx, tx, workspaceID, keep, gone)
		if err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE contact_identities SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
			keepID, workspaceID, goneID).Exec(ctx); err != nil {
			return fmt.Errorf("identities: %w", err)
		}
		// The gone contact goes before its first identity is given away:
		// contacts(channel_id, external_id) is unique.
		if err := db.OneRow(tx.NewRaw(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, goneID).Exec(ctx)); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if err := s.kr.DestroyContactKey(ctx, tx, workspaceID, goneID); err != nil {
			return err
		}
		if gone.ChannelID != nil {
			if keep.ChannelID == nil {
				set.ChannelID, set.ExternalID = gone.ChannelID, gone.ExternalID
				set.ProfileState, set.ProfileFetchedAt = gone.ProfileState, gone.ProfileFetchedAt
			} else if _, err := tx.NewRaw(`INSERT INTO contact_identities (workspace_id, contact_id, channel_id, external_id, created_at)
				VALUES (?, ?, ?, ?, ?)`, workspaceID, keepID, *gone.ChannelID, *gone.ExternalID, now).Exec(ctx); err != nil {
				return fmt.Errorf("identities: %w", err)
			}
		}
		set.UpdatedAt = now
		if _, err := tx.NewRaw(`UPDATE contacts SET channel_id = ?, external_id = ?, first_name = ?, last_name = ?, profile_pic = ?,
			locale = ?, profile_state = ?, profile_fetched_at = ?, stage = ?, stage_by = ?, stage_updated_at = ?,
			subscribed = ?, subscribed_at = ?, unsubscribed_at = ?, subscription_by = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`,
			set.ChannelID, set.ExternalID, set.FirstName, set.LastName, set.ProfilePic,
			set.Locale, set.ProfileState, set.ProfileFetchedAt, set.Stage, set.StageBy, set.StageUpdatedAt,
			set.Subscribed, set.SubscribedAt, set.UnsubscribedAt, set.SubscriptionBy, set.UpdatedAt,
			workspaceID, keepID).Exec(ctx); err != nil {
			return fmt.Errorf("update: %w", err)
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionMerge, "contact", keepID, map[string]string{"merged": goneID}); err != nil {
			return err
		}
		kept, err = s.GetTx(ctx, tx, workspaceID, keepID)
		return err
	})
	if err != nil {
		return Contact{}, fmt.Errorf("contact: merge: %w", err)
	}
	return kept, nil
}

// mergeRow is a contacts row as Merge reads and writes it, NULLs kept.
type mergeRow struct {
	ID               string     `bun:"id"`
	ChannelID        *string    `bun:"channel_id"`
	ExternalID       *string    `bun:"external_id"`
	FirstName        []byte     `bun:"first_name"`
	LastName         []byte     `bun:"last_name"`
	ProfilePic       []byte     `bun:"profile_pic"`
	Locale           string     `bun:"locale"`
	ProfileState     string     `bun:"profile_state"`
	ProfileFetchedAt *time.Time `bun:"profile_fetched_at"`
	Stage            *string    `bun:"stage"`
	StageBy          string     `bun:"stage_by"`
	StageUpdatedAt   *time.Time `bun:"stage_updated_at"`
	Subscribed       bool       `bun:"subscribed"`
	SubscribedAt     *time.Time `bun:"subscribed_at"`
	UnsubscribedAt   *time.Time `bun:"unsubscribed_at"`
	SubscriptionBy   string     `bun:"subscription_by"`
	UpdatedAt        time.Time  `bun:"updated_at"`
}

// lockPair locks both contacts (in ID order, so that two merges of the same
// pair queue rather than deadlock on PostgreSQL) and reads them;
// db.ErrNotFound unless both are the workspace's.
func lockPair(ctx context.Context, tx bun.Tx, workspaceID, keepID, goneID string, now time.Time) (keep, gone mergeRow, err error) {
	first, second := keepID, goneID
	if second < first {
		first, second = second, first
	}
	for _, id := range []string{first, second} {
		if err := db.OneRow(tx.NewRaw(`UPDATE contacts SET updated_at = ? WHERE workspace_id = ? AND id = ?`, now, workspaceID, id).Exec(ctx)); err != nil {
			return keep, gone, err
		}
	}
	var rows []mergeRow
	if err := tx.NewRaw(`SELECT id, channel_id, external_id, first_name, last_name, profile_pic, locale, profile_state, profile_fetched_at,
		stage, stage_by, stage_updated_at, subscribed, subscribed_at, unsubscribed_at, subscription_by, updated_at
		FROM contacts WHERE workspace_id = ? AND id IN (?, ?)`, workspaceID, keepID, goneID).Scan(ctx, &rows); err != nil {
		return keep, gone, err
	}
	if len(rows) != 2 {
		return keep, gone, db.ErrNotFound
	}
	if rows[0].ID == keepID {
		return rows[0], rows[1], nil
	}
	return rows[1], rows[0], nil
}

// checkDisjoint refuses two contacts having an identity on one channel.
func checkDisjoint(ctx context.Context, tx bun.Tx, workspaceID string, keep, gone mergeRow) error {
	channels := func(r mergeRow) ([]string, error) {
		var ids []string
		if r.ChannelID != nil {
			ids = append(ids, *r.ChannelID)
		}
		var merged []string
		if err := tx.NewRaw(`SELECT channel_id FROM contact_identities WHERE workspace_id = ? AND contact_id = ?`, workspaceID, r.ID).Scan(ctx, &merged); err != nil {
			return nil, fmt.Errorf("identities: %w", err)
		}
		return append(ids, merged...), nil
	}
	kc, err := channels(keep)
	if err != nil {
		return err
	}
	gc, err := channels(gone)
	if err != nil {
		return err
	}
	for _, a := range kc {
		for _, b := range gc {
			if a == b {
				return invalid(fmt.Errorf("both contacts have an identity on channel %s: to that channel they are two people", a))
			}
		}
	}
	return nil
}

// mergeValues gives the kept contact the gone one's field values for the
// fields it has none of, re-sealed under its key.
func (s *Store) mergeValues(ctx context.Context, tx bun.Tx, workspaceID, keepID, goneID string) error {
	var rows []struct {
		FieldID   string    `bun:"field_id"`
		Type      string    `bun:"type"`
		Value     []byte    `bun:"value"`
		UpdatedBy string    `bun:"updated_by"`
		UpdatedAt time.Time `bun:"updated_at"`
	}
	if err := tx.NewRaw(`SELECT v.field_id, f.type, v.value, v.updated_by, v.updated_at
		FROM contact_field_values v JOIN contact_fields f ON f.workspace_id = v.workspace_id AND f.id = v.field_id
		WHERE v.workspace_id = ? AND v.contact_id = ?
		AND NOT EXISTS (SELECT 1 FROM contact_field_values k WHERE k.contact_id = ? AND k.field_id = v.field_id)
		ORDER BY v.field_id`, workspaceID, goneID, keepID).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("values: %w", err)
	}
	for _, r := range rows {
		pt, err := s.kr.OpenContactTx(ctx, tx, valueAAD(workspaceID, goneID, r.FieldID), goneID, r.Value)
		if errors.Is(err, keyring.ErrKeyDestroyed) {
			return nil // erased a moment ago: nothing to carry over
		}
		if err != nil {
			return fmt.Errorf("values: %w", err)
		}
		sealed, err := s.kr.SealContactTx(ctx, tx, valueAAD(workspaceID, keepID, r.FieldID), keepID, pt)
		if err != nil {
			return fmt.Errorf("values: %w", err)
		}
		if _, err := tx.NewRaw(`INSERT INTO contact_field_values (contact_id, field_id, workspace_id, value, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, keepID, r.FieldID, workspaceID, sealed, r.UpdatedBy, r.UpdatedAt).Exec(ctx); err != nil {
			return fmt.Errorf("values: %w", err)
		}
		if FieldType(r.Type) == FieldPhone {
			if err := s.indexPhone(ctx, tx, workspaceID, keepID, r.FieldID, string(pt)); err != nil {
				return fmt.Errorf("values: %w", err)
			}
		}
	}
	return nil
}

// mergedRow returns the kept contact's row as the merge leaves it (but for
// its identity, which Merge sets): see Merge for the rules.
func (s *Store) mergedRow(ctx context.Context, tx bun.Tx, workspaceID string, keep, gone mergeRow) (mergeRow, error) {
	out := keep
	// Names and picture come from one person, re-sealed under the kept
	// contact's key; a gone contact whose key is destroyed has none.
	reseal := func(column string, sealed []byte) ([]byte, error) {
		if sealed == nil {
			return nil, nil
		}
		pt, err := s.kr.OpenContactTx(ctx, tx, aad(workspaceID, gone.ID, column), gone.ID, sealed)
		if errors.Is(err, keyring.ErrKeyDestroyed) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("names: %w", err)
		}
		return s.kr.SealContactTx(ctx, tx, aad(workspaceID, keep.ID, column), keep.ID, pt)
	}
	var err error
	if keep.FirstName == nil && keep.LastName == nil {
		if out.FirstName, err = reseal(colFirstName, gone.FirstName); err != nil {
			return out, err
		}
		if out.LastName, err = reseal(colLastName, gone.LastName); err != nil {
			return out, err
		}
	}
	if keep.ProfilePic == nil {
		if out.ProfilePic, err = reseal(colPicture, gone.ProfilePic); err != nil {
			return out, err
		}
	}
	if keep.Locale == "" {
		out.Locale = gone.Locale
	}
	if keep.Stage == nil {
		out.Stage, out.StageBy, out.StageUpdatedAt = gone.Stage, gone.StageBy, gone.StageUpdatedAt
	}
	out.Subscribed, out.SubscribedAt, out.UnsubscribedAt, out.SubscriptionBy = mergeConsent(keep, gone)
	return out, nil
}

// mergeConsent merges two subscription records (see Merge): the last
// opt-in and the last withdrawal of either, subscribed only when one of
// them is and no withdrawal is as late as the last opt-in; the author is
// that of the latest event.
func mergeConsent(keep, gone mergeRow) (bool, *time.Time, *time.Time, string) {
	in := later(keep.SubscribedAt, gone.SubscribedAt)
	out := later(keep.UnsubscribedAt, gone.UnsubscribedAt)
	on := (keep.Subscribed || gone.Subscribed) && in != nil && (out == nil || out.Before(*in))
	by := keep.SubscriptionBy
	if last(gone).After(last(keep)) {
		by = gone.SubscriptionBy
	}
	return on, in, out, by
}

// later is the later of two optional times.
func later(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.After(*b):
		return a
	}
	return b
}

// last is the time of a contact's last subscription change (zero if none).
func last(r mergeRow) time.Time {
	if t := later(r.SubscribedAt, r.UnsubscribedAt); t != nil {
		return *t
	}
	return time.Time{}
}
