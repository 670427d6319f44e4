package contact

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
)

// A contact's channel identities. The first one — the channel and
// platform-scoped ID the person first wrote from — is on the contact's own
// row (contacts.channel_id, external_id), where the webhook's hot path finds
// it; a contact created without one (Create) has none there. Identities of
// contacts merged into it (Merge) are rows of contact_identities (migration
// 00024). A contact has at most one identity per channel: two PSIDs on one
// Page are two people.

// Identity is one channel identity of a contact.
type Identity struct {
	ChannelID string
	// ExternalID is the platform-scoped ID: PSID on Messenger.
	ExternalID string
	// Merged says the identity came with a merged contact; false for the
	// contact's first one.
	Merged bool
	// Since is when the contact got the identity: its creation for the
	// first one, the merge for the others.
	Since time.Time
}

// sqlLookupMerged finds a person by an identity merged into a contact: the
// second statement of a Lookup, only when the first one missed.
const sqlLookupMerged = `SELECT ` + contactCols + ` FROM contacts WHERE workspace_id = ? AND id =
	(SELECT contact_id FROM contact_identities WHERE channel_id = ? AND external_id = ? AND workspace_id = ?)`

// lookupMerged is Lookup among merged identities: the contact, with the
// identity it was found by as its ChannelID and ExternalID, so that a reply
// goes to the PSID the person wrote from.
func (s *Store) lookupMerged(ctx context.Context, idb bun.IDB, ch channel.Channel, externalID string) (Contact, error) {
	var r row
	if err := s.st.Row(ctx, idb, r.dest(), sqlLookupMerged+s.lookupLock(idb), ch.WorkspaceID, ch.ID, externalID, ch.WorkspaceID); err != nil {
		return Contact{}, db.NoRows(err)
	}
	c := r.contact()
	c.ChannelID, c.ExternalID = ch.ID, externalID
	return c, nil
}

// Identities returns every channel identity of the workspace's contact,
// the first one first, then the merged ones in the order they came
// (db.ErrNotFound for a contact not in the workspace; an empty list for a
// contact created without one and never merged).
func (s *Store) Identities(ctx context.Context, workspaceID, contactID string) ([]Identity, error) {
	var first struct {
		ChannelID  *string   `bun:"channel_id"`
		ExternalID *string   `bun:"external_id"`
		CreatedAt  time.Time `bun:"created_at"`
	}
	if err := s.d.R.NewRaw(`SELECT channel_id, external_id, created_at FROM contacts WHERE workspace_id = ? AND id = ?`,
		workspaceID, contactID).Scan(ctx, &first); err != nil {
		return nil, fmt.Errorf("contact: identities: %w", db.NoRows(err))
	}
	var out []Identity
	if first.ChannelID != nil && first.ExternalID != nil {
		out = append(out, Identity{ChannelID: *first.ChannelID, ExternalID: *first.ExternalID, Since: first.CreatedAt.UTC()})
	}
	merged, err := mergedIdentities(ctx, s.d.R, workspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("contact: identities: %w", err)
	}
	return append(out, merged...), nil
}

// mergedIdentities lists the identities merged into a contact, oldest
// first.
func mergedIdentities(ctx context.Context, idb bun.IDB, workspaceID, contactID string) ([]Identity, error) {
	var rows []struct {
		ChannelID  string    `bun:"channel_id"`
		ExternalID string    `bun:"external_id"`
		CreatedAt  time.Time `bun:"created_at"`
	}
	if err := idb.NewRaw(`SELECT channel_id, external_id, created_at FROM contact_identities
		WHERE workspace_id = ? AND contact_id = ? ORDER BY created_at, channel_id`, workspaceID, contactID).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]Identity, 0, len(rows))
	for _, r := range rows {
		out = append(out, Identity{ChannelID: r.ChannelID, ExternalID: r.ExternalID, Merged: true, Since: r.CreatedAt.UTC()})
	}
	return out, nil
}

// ExternalIDOn returns the platform-scoped ID of the workspace's contact on
// channelID — the PSID a message to them on that channel goes to — through
// idb (nil: the reader pool); db.ErrNotFound when the contact has no
// identity there (or is not the workspace's, or was erased).
func (s *Store) ExternalIDOn(ctx context.Context, idb bun.IDB, workspaceID, contactID, channelID string) (string, error) {
	if idb == nil {
		idb = s.d.R
	}
	var ids []string
	// The first identity, else a merged one: at most one of the two
	// matches, since a contact has at most one identity per channel.
	if err := idb.NewRaw(`SELECT external_id FROM contacts WHERE workspace_id = ? AND id = ? AND channel_id = ?
		UNION ALL SELECT external_id FROM contact_identities WHERE workspace_id = ? AND contact_id = ? AND channel_id = ?`,
		workspaceID, contactID, channelID, workspaceID, contactID, channelID).Scan(ctx, &ids); err != nil {
		return "", fmt.Errorf("contact: external ID: %w", err)
	}
	if len(ids) == 0 {
		return "", fmt.Errorf("contact: external ID: %w", db.ErrNotFound)
	}
	return ids[0], nil
}
