// Package realtime owns live updates for connected dashboards: a Hub of
// per-workspace topics that fans events out to subscribers, the
// Server-Sent Events writer that streams a subscription to a browser, and
// the PostgreSQL bridge (LISTEN/NOTIFY) that carries events between
// replicas sharing one database.
//
// Events are invalidation hints, not data: they carry a workspace ID, a kind
// and the IDs of what changed (conversation, contact, assignee, team) and
// never message text, names or any other personal data. A dashboard that
// receives one re-fetches what it is allowed to see through the ordinary
// read paths, so a stream can never leak more than those paths would. For
// the same reason delivery is best effort: a subscriber that falls behind is
// dropped and told to resync, and after the PostgreSQL listener reconnects
// every local subscriber is told to resync, instead of buffering without
// bound.
//
// On SQLite (one process) events are delivered locally only. On PostgreSQL
// Publish also sends pg_notify on one channel, tagged with the replica's ID,
// and each Hub listens on a dedicated connection and delivers other
// replicas' events to its own subscribers.
//
// realtime imports db (for the dialect and the pgx pool's connection
// settings) and the standard library, including net/http for the SSE
// writer. It must not import app, web, api, inbox, access or any other
// feature package: publishers call it, it never calls them.
package realtime
