package app

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/metacallback"
	"github.com/parleyhq/parley/internal/web"
)

// metaCallbacks builds Meta's data-deletion and deauthorize callbacks
// (promise P-32, security.md §3.H), after erasure, which erases the
// contacts a deletion reaches, and after messaging, whose connect service
// disconnects the channels and records, through metaIdentities, which
// Facebook user each channel's token came from.
func (a *App) metaCallbacks() {
	cfg := a.Config
	if cfg.Meta.AppSecret.Reveal() == "" && !cfg.Simulator {
		a.Log.Warn("PARLEY_META_APP_SECRET is empty: Meta's data-deletion and deauthorize callbacks refuse everything")
	}
	opt := metacallback.Options{
		Now: a.Now, Log: a.Log.With("component", "metacallback"),
		AppSecret: cfg.Meta.AppSecret.Reveal(), BaseURL: cfg.BaseURL.String(),
		Master: a.Master, Queue: a.Jobs, Disconnect: a.Connect,
		// Meta's ID matching: answers only for Pages of the app's
		// business; a refusal is logged and tolerated.
		Matcher: a.Graph, Channels: a.Channels, Contacts: a.Contacts,
	}
	if a.Erasure != nil {
		opt.Eraser = a // App.EraseContact: erasure plus live-update hints
	}
	a.MetaCallbacks = metacallback.New(a.DB, opt)
	a.MetaCallbacks.Register(a.Jobs)
	a.Jobs.Periodic("purge old Meta data-deletion requests", 24*time.Hour, metacallback.KindPurge)
}

// metaCallbackDeps gives the dashboard the deletion status page's lookup,
// its rate limit (30 look-ups a minute per address) and the operator's
// name and address for the public privacy pages.
func (a *App) metaCallbackDeps(deps *web.Deps) {
	deps.DeletionStatus = a.MetaCallbacks
	deps.DeletionLimit = httpx.NewLimiter(30, time.Minute, a.Now)
	deps.Operator = web.Operator{Name: a.Config.Operator.Name, Email: a.Config.Operator.Email}
}

// metaIdentities hands connect's Identities hook to the metacallback
// service, which is built after connect (it disconnects through it).
type metaIdentities struct{ a *App }

// RecordLogin implements connect.Identities.
func (m metaIdentities) RecordLogin(ctx context.Context, workspaceID, userID, asid string, channelIDs ...string) error {
	if m.a.MetaCallbacks == nil {
		return nil
	}
	return m.a.MetaCallbacks.RecordLogin(ctx, workspaceID, userID, asid, channelIDs...)
}
