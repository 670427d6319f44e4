// Package webhook is the Meta webhook intake (promise P-13): the one callback
// URL, /webhooks/meta, that every Page of every workspace posts to.
//
// The HTTP side does as little as possible, in this order (security.md §3.G,
// meta-platform.md §1.4):
//
//  1. refuse a client address that keeps sending bad requests (429);
//  2. refuse a request without exactly one plausible X-Hub-Signature-256
//     header, or any request at all while no app secret is configured (403:
//     verification never fails open);
//  3. read the body, at most Options.MaxBody bytes (413 before reading more,
//     with or without Content-Length);
//  4. verify the HMAC-SHA256 over the raw bytes exactly as received
//     (meta.VerifySignature; 403 and nothing changes when it fails);
//  5. refuse it (503, Retry-After) while processing is more than
//     Options.MaxLag behind, so a burst above capacity cannot build a
//     backlog every later message waits behind; Meta delivers it again.
//     Never while a pause's backlog drains (security.md P-3);
//  6. seal the body under the platform key and hand it to the group-commit
//     writer, which stores it, pending, in webhook_deliveries;
//  7. answer 200 only after that transaction committed, 503 otherwise (Meta
//     retries), so an acknowledged delivery is never lost (security.md M-1,
//     M-4).
//
// Everything else happens later, in the processor (processor.go, ADR 0004):
// parse the bodies (messenger.Parse), route events by Page to the connected
// channel (or count them against unknown_accounts and drop them), hand
// them to the inbox and delete the deliveries, in transactions of at most
// Options.ApplyMax deliveries. Authentic bodies that cannot be processed
// (not JSON, an object this route does not handle) are quarantined, not
// retried: Meta got its 200. Redeliveries are expected (at-least-once);
// the inbox deduplicates by message ID.
//
// One writer goroutine per process batches deliveries ("group commit"): it
// collects what arrives within Options.FlushEvery, up to Options.BatchMax,
// and writes them with prepared multi-row INSERTs, so a single SQLite
// writer sustains tens of thousands of deliveries a second. After each
// commit it hands the batch, bodies still in clear, to the one processor
// goroutine through a bounded in-memory backlog, and never waits for it.
// The deliveries table is the durable queue: whenever memory may miss a
// pending delivery (at start, when the backlog overflows, after a failure
// or a pause) the processor reads pending deliveries from the database in
// arrival order until it has caught up, and every few seconds it applies
// what has been pending too long (another replica died holding it). Each
// processing transaction claims its deliveries first (DELETE … WHERE state
// = 'pending' RETURNING id) and applies only those it deleted, so memory,
// catch-up and other replicas never apply a delivery twice; on PostgreSQL
// an advisory lock keeps replicas to one processing transaction at a time.
//
// Never logged, stored in clear or put in an error: bodies, signatures,
// secrets, the verify token.
//
// webhook sits at the application level: it imports channel,
// channel/messenger, inbox (for its Effects), meta, job (only to handle the
// processing jobs an earlier version left), keyring, db, httpx and access.
// Nothing but the composition root (app) may import it.
package webhook
