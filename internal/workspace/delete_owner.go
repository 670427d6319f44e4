package workspace

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// SoleOwnerships lists the live workspaces (not being deleted) in which
// userID is the only owner, read through idb, ordered by name. A person may
// not delete their account while it is not empty (the last-owner rule of
// P-33): each of those workspaces would be left with nobody who can manage
// or delete it. They first make someone else an owner, or delete the
// workspace. Workspaces already being deleted do not count: their purge
// needs nobody.
// Call it in the transaction that deletes the account.
func (s *Service) SoleOwnerships(ctx context.Context, idb bun.IDB, userID string) ([]Workspace, error) {
	out := []Workspace{}
	err := idb.NewRaw(`SELECT w.id, w.name, w.plan, w.trial_ends_at, w.time_zone, w.created_at, w.updated_at, w.deletion_requested_at, w.purge_at
		FROM members m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.user_id = ? AND m.role = ? AND w.deletion_requested_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM members o WHERE o.workspace_id = m.workspace_id AND o.role = ? AND o.user_id <> m.user_id)
		ORDER BY w.name, w.id`, userID, RoleOwner, RoleOwner).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("workspace: sole ownerships: %w", err)
	}
	return out, nil
}
