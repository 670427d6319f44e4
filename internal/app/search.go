package app

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/httpx"
	"github.com/parleyhq/parley/internal/search"
)

// searchesPerMinute is each member's (and API key's) budget of searches in
// a workspace: every query opens sealed text to verify its hits, so a
// script must not turn it into a bulk reader. Chatwoot allows 100 contact
// searches a minute per account (security.md §1.6); a person typing into
// the search box makes far fewer.
const searchesPerMinute = 120

// indexBatch is how many contacts and messages of each feed one indexing
// transaction takes (search.DefaultBatch is 500). Each batch holds the one
// SQLite writer the webhook path needs: at 1,000 messages a second, batches
// of 100 raised reply p99 from 26 to 56 ms in the reply benchmark; with 20
// (and the indexer's duty bound) it stays at 26 ms.
const indexBatch = 20

// searchIndex builds the search index over the contacts and the inbox
// (docs/adr/0005) and connects what keeps it right in the transactions of
// the changes: phone and e-mail values queue their contact (Touch), an
// unsent message leaves it (Forget, through inbox Options.Unsent, which
// calls a.forgetMessage), and a merge re-points the gone contact's
// documents (MoveContact, among mergeMovers). It runs after the inbox is
// built; Start starts its indexer, Close stops it.
func (a *App) searchIndex() {
	a.Search = search.New(a.DB, a.Keyring, search.Options{
		Contacts: search.NewContactSource(a.Contacts),
		Messages: search.NewMessageSource(a.Inbox),
		Now:      a.Now,
		Logger:   a.Log.With("component", "search"),
		// Small batches: each is one write transaction, and on SQLite the
		// webhook path, the jobs and readiness share the one writer.
		Batch: indexBatch,
		// A small share of the writer while webhooks flow, a large one
		// once they ease. a.Webhooks is built after the index (messaging.go)
		// and before the indexer starts.
		Busy: func() bool { return a.Webhooks != nil && a.Webhooks.Busy() },
	})
	a.Contacts.OnSearchableChange(a.Search.Touch)
}

// searchLimit is the search budget the JSON API and the dashboard share,
// made once.
func (a *App) searchLimit() *httpx.Limiter {
	if a.searchLimiter == nil {
		a.searchLimiter = httpx.NewLimiter(searchesPerMinute, time.Minute, a.Now)
	}
	return a.searchLimiter
}

// forgetMessage is the inbox's Unsent listener: the unsent message leaves
// the search index in the unsend's transaction.
func (a *App) forgetMessage(ctx context.Context, tx bun.Tx, workspaceID, messageID string) error {
	return a.Search.Forget(ctx, tx, workspaceID, messageID)
}
