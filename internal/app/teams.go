package app

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/team"
)

// teams builds the teams, availability and round-robin store (before the
// inbox, which picks assignees through it: inbox Options.Teams). Deleting
// a team takes it off its conversations in the same transaction, through
// the inbox (built next: the closure reads a.Inbox when a team is deleted).
func (a *App) teams() {
	a.Teams = team.NewStore(a.DB, a.Now, team.Options{
		TeamDeleted: func(ctx context.Context, tx bun.Tx, workspaceID, teamID string) error {
			return a.Inbox.ClearTeam(ctx, tx, workspaceID, teamID)
		},
	})
}
