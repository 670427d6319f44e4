// Package job is Parley's durable job queue. It owns the jobs and
// job_periodic tables (migration 00004) and nothing else.
//
// A job is a row. Producers add it with Enqueue in the same transaction as
// the change it is about, so a rolled-back change leaves no job and a
// committed one always has its job. Workers claim jobs in batches, lease
// them, run the registered Handler and delete the row when it succeeds.
// Delivery is at least once: handlers must be idempotent.
//
//	q := job.New(d, job.Options{Log: log})
//	q.Register("messenger.send", send, job.MaxAttempts(8), job.Timeout(30*time.Second))
//	q.Periodic("retention", 24*time.Hour, "privacy.retention")
//	if err := q.Start(ctx); err != nil { … }
//	defer q.Stop(shutdownCtx)
//
//	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
//		// … store the message …
//		_, err := q.Enqueue(ctx, tx, "messenger.send", payload, job.Key(conversationID))
//		return err
//	})
//	q.Notify() // after commit: run it now, not at the next poll
//
// What it guarantees:
//
//   - Claiming: on PostgreSQL with FOR UPDATE SKIP LOCKED, so replicas
//     sharing the table never claim the same row; on SQLite inside the one
//     write transaction. One dispatcher goroutine per queue writes back the
//     results gathered since its last round and claims a job per free
//     worker, in one transaction.
//   - Leases: a claim holds a job until locked_until (Options.Lease). A live
//     queue renews its leases every Lease/3; when a process dies its leases
//     run out and any queue reclaims the jobs. A reclaimed run counts as an
//     attempt, so a job that keeps killing its worker ends up dead.
//   - Retries: a failed run is retried after an exponential backoff with
//     jitter (Backoff), up to MaxAttempts runs; a Permanent error, or the
//     last attempt failing, moves the job to the dead letters. A panicking
//     handler is a failed run, not a crashed process. RetryAfter sets the
//     delay once. Error messages are stored truncated, with URL queries,
//     URL credentials and bearer tokens removed; still, never put secrets
//     or personal data in an error.
//   - Dead letters: Dead lists them, Retry re-queues one, PurgeDead removes
//     old ones (their payloads may hold personal data). Dead jobs block
//     nothing: neither their ordering key nor their unique key.
//   - Unique keys (Unique): at most one pending, waiting or running job per
//     key; enqueueing a duplicate returns the existing job's ID.
//   - Per-key ordering (Key): jobs sharing a key run one at a time, in ID
//     order. Only a key's earliest unfinished job is pending; later ones are
//     waiting, outside the claim index, and the next becomes pending when
//     its predecessor finishes or dies. A job waiting for a retry holds back
//     the ones behind it. IDs are monotonic (AUTOINCREMENT / identity); on
//     PostgreSQL a per-key advisory lock at enqueue makes ID order equal
//     commit order.
//   - Periodic tasks (Periodic): named, registered in one place, enqueued
//     once per time slot across all replicas.
//   - Shutdown (Stop): stop claiming, let running handlers finish until the
//     deadline, then cancel them and release their jobs back to pending
//     without counting the attempt. Nothing is lost.
//
// Latency: Enqueue outside a transaction, and Notify, wake this process's
// dispatcher at once; otherwise it polls every PollInterval. Other replicas
// find new jobs at their next poll. The hot statements are prepared once
// (see stmts), because re-parsing them would cost more than running them.
//
// job imports db only, and no domain package: domains import job to enqueue
// and register their handlers, which the composition root wires up.
package job
