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
//  5. seal the body under the platform key and hand it to the group-commit
//     writer, which stores it and enqueues its processing job in one
//     transaction;
//  6. answer 200 only after that transaction committed, 503 otherwise (Meta
//     retries), so an acknowledged delivery is never lost (security.md M-1,
//     M-4).
//
// Everything else happens later, in the "webhook.process" job: open the
// stored bodies, parse them (messenger.Parse), route events by Page to the
// connected channel (or count them against unknown_accounts and drop them),
// hand them to the inbox, delete the deliveries, all in one transaction.
// Authentic bodies that cannot be processed (not JSON, an object this route
// does not handle) are quarantined, not retried: Meta got its 200.
// Redeliveries are expected (at-least-once); the inbox deduplicates by
// message ID.
//
// One writer goroutine per process batches deliveries ("group commit"): it
// collects what arrives within Options.FlushEvery, up to Options.BatchMax,
// and writes them with prepared multi-row INSERTs and one job per batch, so
// a single SQLite writer sustains tens of thousands of deliveries a second.
// Processing jobs share one ordering key, so batches apply in arrival order.
//
// Never logged, stored in clear or put in an error: bodies, signatures,
// secrets, the verify token.
//
// webhook sits at the application level: it imports channel,
// channel/messenger, inbox (for its Effects), meta, job, keyring, db, httpx
// and access. Nothing but the composition root (app) may import it.
package webhook
