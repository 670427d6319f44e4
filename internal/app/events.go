package app

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/realtime"
)

// publishTimeout bounds the NOTIFY a hint costs on PostgreSQL.
const publishTimeout = 5 * time.Second

// publishChange adapts the inbox's committed changes to live-update
// events. It never fails the change: a lost hint costs an open page one
// slow poll, so errors are only logged.
func (a *App) publishChange(ctx context.Context, c inbox.Change) {
	kind := realtime.KindMessage
	if c.Kind == inbox.ChangeConversation {
		kind = realtime.KindConversation
	}
	// The change has happened: the caller's context ending must not stop
	// the hint (the NOTIFY to other replicas), but a stuck database must
	// not hold the caller either.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	err := a.Events.Publish(ctx, realtime.Event{
		WorkspaceID: c.WorkspaceID, Kind: kind, ConversationID: c.ConversationID, ContactID: c.ContactID,
	})
	if err != nil && !errors.Is(err, realtime.ErrHubClosed) {
		a.Log.Warn("live update not published", "workspace", c.WorkspaceID, "kind", string(kind), "err", err)
	}
}
