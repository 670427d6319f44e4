package connect

import (
	"context"

	"github.com/parleyhq/parley/internal/channel"
)

// Identities is told which Facebook user each connected channel's token
// came from, so that Meta's deauthorize and data-deletion callbacks, which
// name only that user's app-scoped ID (ASID), can find the channels
// (metacallback.Service implements it; promise P-32). asid is "" for a
// pasted token, whose person Parley does not know: that forgets any
// earlier origin of the channels.
type Identities interface {
	RecordLogin(ctx context.Context, workspaceID, userID, asid string, channelIDs ...string) error
}

// loginASID is the app-scoped ID of the login's Facebook user (GET /me
// with its user token), or "" when no Identities hook is set or Meta does
// not say: the connection goes ahead, and the failure is logged, because
// refusing to connect would not protect anyone.
func (s *Service) loginASID(ctx context.Context, ws, userID, loginID string) string {
	if s.opt.Identities == nil {
		return ""
	}
	token, err := s.loginToken(ctx, ws, userID, loginID)
	if err != nil {
		s.opt.Log.Warn("connect: open user token for the login's Facebook user", "err", err)
		return ""
	}
	me, err := s.graph.Me(ctx, token)
	if err != nil {
		s.opt.Log.Warn("connect: could not learn the login's Facebook user; a deletion callback will not reach these channels", "err", err)
		return ""
	}
	return me.ID
}

// recordOrigin tells Identities where the channels' tokens came from.
// Best effort, logged: the channels are connected either way.
func (s *Service) recordOrigin(ctx context.Context, ws, userID, asid string, chs []channel.Channel) {
	if s.opt.Identities == nil || len(chs) == 0 {
		return
	}
	ids := make([]string, len(chs))
	for i, ch := range chs {
		ids[i] = ch.ID
	}
	if err := s.opt.Identities.RecordLogin(ctx, ws, userID, asid, ids...); err != nil {
		s.opt.Log.Error("connect: record the channels' Facebook user", "err", err)
	}
}
