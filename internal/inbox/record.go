package inbox

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/timeline"
)

// record appends a timeline event of conv inside idb, the transaction of
// the change it tells of, so that the event exists exactly when the change
// does. data holds states, IDs and reasons only, never personal data.
// Without Options.Timeline nothing is recorded.
func (s *Service) record(ctx context.Context, idb bun.IDB, conv Conversation, kind timeline.Kind, actor string, data map[string]string, at time.Time) error {
	if s.opt.Timeline == nil {
		return nil
	}
	return s.opt.Timeline.Record(ctx, idb, timeline.Event{
		WorkspaceID: conv.WorkspaceID, ConversationID: conv.ID, ContactID: conv.ContactID,
		Kind: kind, Actor: actor, Data: data, At: at,
	})
}
