// Package killswitch is the operator's kill switch (promise P-37,
// security.md §3.P): it pauses outbound sending and/or automated
// processing, for every workspace or for one, with a reason, during an
// incident. While paused, webhook intake still verifies, stores and
// acknowledges every delivery; nothing is lost, and resuming drains the
// backlog in order.
//
// Pauses live in the database (table kill_switches), so every replica
// shares them. Each process reads the table every Options.Poll (default
// DefaultPoll, 2 s) into an immutable snapshot; the hot paths (each
// webhook delivery, each send) only look the snapshot up in a map, never
// the database. A change made by one process is therefore seen by every
// other within Bound (5 s): one poll interval plus the time a poll takes,
// whose timeout is bounded too. The process that toggles sees its change
// at once.
//
// Toggles require a platform administrator with two-factor authentication
// on (security.md P-1), or the command line on the server host, and each
// is written to the audit log with its reason: in the workspace's log for
// a workspace pause (its owner sees it), in the platform's otherwise.
//
// Owns: the kill_switches table. Must not import net/http, web, api or
// the packages that honour the switch (webhook, inbox): they are handed
// its answers as plain functions at wiring time.
package killswitch
