package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/parleyhq/parley/internal/calllog"
)

// callLogs builds the call-log sync (promise P-28), after the contacts and
// their activity log, which it records matched calls on. Numbers a phone
// gives without their country code are read in the country of the
// workspace's time zone.
func (a *App) callLogs() {
	a.CallLogs = calllog.New(a.DB, a.Keyring, a.Contacts, a.Activity, a.Now, calllog.Options{Region: a.workspaceRegion})
}

// workspaceRegion is the country of the workspace's time zone
// (Asia/Phnom_Penh → KH), or "" for UTC and other zones of no one country:
// then only numbers given with their country code match. Workspaces have
// no country setting of their own; the time zone is what their owner
// chose, and almost always where the shop's phones are.
func (a *App) workspaceRegion(ctx context.Context, workspaceID string) (string, error) {
	loc, err := a.Workspaces.TimeZone(ctx, workspaceID)
	if err != nil {
		return "", fmt.Errorf("app: workspace region: %w", err)
	}
	return zoneRegion(loc.String()), nil
}

// zoneRegion is the ISO 3166-1 alpha-2 country of an IANA time zone name,
// "" when the zone belongs to no single country (UTC, Etc/GMT+7) or is not
// in the table (zoneregion_table.go).
func zoneRegion(zone string) string { return zoneRegions[zone] }

// background is work Start launches outside the job queue; Close cancels
// it and waits for it, before the database closes under it.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// run runs f in the background under a context Close cancels (and that
// ends with parent). Start calls it; it is not for concurrent use.
func (b *background) run(parent context.Context, f func(ctx context.Context)) {
	if b.cancel == nil {
		b.ctx, b.cancel = context.WithCancel(parent)
	}
	ctx := b.ctx
	b.wg.Go(func() { f(ctx) })
}

// stop cancels the background work and waits for it to return.
func (b *background) stop() {
	if b.cancel != nil {
		b.cancel()
	}
	b.wg.Wait()
}

// reindexPhones writes the phone blind index of phone values stored before
// the index existed (contact.Store.ReindexPhones), once per start, in the
// background: with nothing missing it is one query, and the index is only
// needed for call-log matching, which finds nothing until it is done. It
// logs counts only.
func (a *App) reindexPhones(ctx context.Context) {
	a.bg.run(ctx, func(ctx context.Context) {
		n, err := a.Contacts.ReindexPhones(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			a.Log.Info("phone index: stopped before it finished", "indexed", n)
		case err != nil:
			a.Log.Error("phone index: reindex failed", "indexed", n, "err", err)
		case n > 0:
			a.Log.Info("phone index: indexed phone values stored before it existed", "indexed", n)
		}
	})
}
