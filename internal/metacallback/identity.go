package metacallback

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Sources of an identity-map row.
const (
	SourceLogin      = "login"       // a member connected Pages with Facebook Login
	SourceOptIn      = "opt_in"      // an opt-in carried the person's app-scoped ID
	SourceIDMatching = "id_matching" // Meta's ids_for_pages named the contact
)

// RecordLogin records that the channels got their token from the Facebook
// user asid, logged in by the member userID: a later deletion or
// deauthorize callback for asid disconnects them. An empty asid (a token
// pasted by hand, whose person Parley does not know) forgets any earlier
// origin of those channels, since their token no longer comes from it.
// internal/channel/connect calls it after connecting (connect.Identities).
func (s *Service) RecordLogin(ctx context.Context, workspaceID, userID, asid string, channelIDs ...string) error {
	if s.asidKey == nil {
		return errNoMaster
	}
	if asid != "" && !validASID(asid) {
		return fmt.Errorf("metacallback: record login: %w: bad app-scoped ID", ErrMalformed)
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.opt.Now().UTC()
		for _, ch := range channelIDs {
			if _, err := tx.NewRaw(`DELETE FROM meta_identities WHERE channel_id = ? AND workspace_id = ?`, ch, workspaceID).Exec(ctx); err != nil {
				return err
			}
			if asid == "" {
				continue
			}
			var user *string
			if userID != "" {
				user = &userID
			}
			if _, err := tx.NewRaw(`INSERT INTO meta_identities (id, asid_hash, workspace_id, channel_id, user_id, source, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), s.HashASID(asid), workspaceID, ch, user, SourceLogin, now).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("metacallback: record login: %w", err)
	}
	return nil
}

// LinkContact records, through idb, that the workspace's contact is the
// Facebook user asid (source SourceOptIn or SourceIDMatching), so a
// deletion request for asid erases it. A contact has one link; linking it
// again replaces the earlier one.
func (s *Service) LinkContact(ctx context.Context, idb bun.IDB, workspaceID, contactID, asid, source string) error {
	if s.asidKey == nil {
		return errNoMaster
	}
	if !validASID(asid) {
		return fmt.Errorf("metacallback: link contact: %w: bad app-scoped ID", ErrMalformed)
	}
	if source != SourceOptIn && source != SourceIDMatching {
		return fmt.Errorf("metacallback: link contact: unknown source %q", source)
	}
	if _, err := idb.NewRaw(`DELETE FROM meta_identities WHERE contact_id = ? AND workspace_id = ?`, contactID, workspaceID).Exec(ctx); err != nil {
		return fmt.Errorf("metacallback: link contact: %w", err)
	}
	if _, err := idb.NewRaw(`INSERT INTO meta_identities (id, asid_hash, workspace_id, contact_id, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), s.HashASID(asid), workspaceID, contactID, source, s.opt.Now().UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("metacallback: link contact: %w", err)
	}
	return nil
}

// linked is one identity-map row of a person.
type linked struct {
	WorkspaceID string  `bun:"workspace_id"`
	ChannelID   *string `bun:"channel_id"`
	ContactID   *string `bun:"contact_id"`
}

// links returns the person's identity-map rows.
func (s *Service) links(ctx context.Context, subject string) ([]linked, error) {
	var out []linked
	err := s.d.R.NewRaw(`SELECT workspace_id, channel_id, contact_id FROM meta_identities WHERE asid_hash = ? ORDER BY id`, subject).Scan(ctx, &out)
	return out, err
}

// forget deletes the person's identity-map rows: the link between their
// Facebook account and Parley is itself their data.
func (s *Service) forget(ctx context.Context, subject string) error {
	_, err := s.d.W.NewRaw(`DELETE FROM meta_identities WHERE asid_hash = ?`, subject).Exec(ctx)
	return err
}
