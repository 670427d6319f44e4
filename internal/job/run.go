package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/uptrace/bun"
)

// outcome is what became of one run.
type outcome int

const (
	done    outcome = iota // delete the row
	retry                  // back to pending at runAt
	dead                   // dead-letter
	release                // back to pending, attempt not counted (shutdown)
	snooze                 // back to pending at runAt, attempt not counted (Snooze)
)

// result travels from a worker to the dispatcher, which writes it.
type result struct {
	id    int64
	key   string // ordering key: finishing the head promotes the next job
	out   outcome
	runAt time.Time
	err   string
}

// dispatch is the one goroutine that claims and finishes jobs, so that both
// happen in batches: each round is one transaction that writes every result
// gathered since the last round and claims as many jobs as there are free
// workers. On SQLite that is one trip through the single writer per round,
// not two per job.
func (q *Queue) dispatch() {
	defer close(q.done)
	defer close(q.work)
	poll := time.NewTicker(q.opt.PollInterval)
	defer poll.Stop()
	lease := time.NewTicker(max(q.opt.Lease/3, time.Millisecond))
	defer lease.Stop()

	var (
		pend     []result // written back by the next round
		later    []string // keys whose promotion was postponed
		inflight int      // claimed and not yet written back
		look     = true   // there may be runnable jobs
		failing  bool     // the last round failed: wait for the next tick
		// stopping becomes nil once Stop has been called: claim no more.
		stopping <-chan struct{} = q.stopping
	)
	q.housekeep(true)
	q.schedule(q.base, q.now())
	for {
		wantClaim := look && stopping != nil && inflight-len(pend) < q.opt.Workers
		if failing || (len(pend) == 0 && !wantClaim) {
			select {
			case r := <-q.results:
				pend = append(pend, r)
			case <-q.wake:
				look = true
			case <-poll.C:
				look, failing = true, false
				q.schedule(q.base, q.now())
			case <-lease.C:
				q.housekeep(inflight > 0)
			case <-stopping:
				stopping = nil
			case <-q.kill:
				return
			}
		}
		if stopping != nil {
			// select picks among ready cases at random: a wake that arrived
			// together with Stop must not win and claim one more batch.
			select {
			case <-stopping:
				stopping = nil
			default:
			}
		}
		for more := true; more; {
			select {
			case r := <-q.results:
				pend = append(pend, r)
			default:
				more = false
			}
		}
		if stopping == nil && inflight == 0 && len(pend) == 0 {
			// Postponed promotions (if any) are left to repair, which every
			// running queue does.
			return
		}
		if failing {
			continue
		}
		// Writing results frees their workers and may unblock the next job
		// of a key, so a round with results always claims too.
		n := 0
		if stopping != nil && (look || len(pend) > 0) {
			n = q.opt.Workers - inflight + len(pend)
		}
		if n == 0 && len(pend) == 0 && len(later) == 0 {
			continue
		}
		jobs, postponed, err := q.round(pend, later, n)
		if err != nil {
			q.log.Error("job round failed; retrying at the next poll", "err", err, "results", len(pend))
			failing = true
			continue
		}
		inflight -= len(pend)
		pend = pend[:0]
		later = postponed
		if n > 0 {
			look = len(jobs) == n // a full batch: there may be more
		}
		inflight += len(jobs)
		for _, j := range jobs {
			q.work <- j // never blocks: at most Workers jobs are in flight
		}
	}
}

// round writes results (and postponed promotions) and claims up to n jobs
// in one transaction. It returns the claimed jobs and the keys whose
// promotion must be tried again.
func (q *Queue) round(pend []result, later []string, n int) ([]*Job, []string, error) {
	ctx, cancel := context.WithTimeout(q.base, q.opt.Lease)
	defer cancel()
	var jobs []*Job
	var postponed []string
	err := q.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := q.now()
		var err error
		if postponed, err = q.finish(ctx, tx, now, pend, later); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		jobs, err = q.claim(ctx, tx, now, n)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return jobs, postponed, nil
}

// housekeep renews our leases (when we hold any), reaps expired ones and
// repairs stranded waiting jobs.
func (q *Queue) housekeep(renew bool) {
	ctx, cancel := context.WithTimeout(q.base, q.opt.Lease)
	defer cancel()
	now := q.now()
	if renew {
		if err := q.renew(ctx, now); err != nil {
			q.log.Error("job lease renewal failed", "err", err)
		}
	}
	n, err := q.reap(ctx, now)
	if err != nil {
		q.log.Error("job lease reaping failed", "err", err)
	} else if n > 0 {
		q.log.Warn("reclaimed jobs whose worker stopped renewing its lease", "jobs", n)
		q.Notify()
	}
	if n, err := q.repair(ctx, now); err != nil {
		q.log.Error("job repair failed", "err", err)
	} else if n > 0 {
		q.log.Warn("promoted waiting jobs nobody had promoted", "jobs", n)
		q.Notify()
	}
}

// worker runs jobs until the dispatcher closes the work channel.
func (q *Queue) worker() {
	for j := range q.work {
		q.results <- q.run(j) // never blocks: one result per in-flight job
	}
}

// run executes one claimed job and decides what becomes of it.
func (q *Queue) run(j *Job) result {
	k := q.kinds[j.Kind]
	log := q.log.With("kind", j.Kind, "job", j.ID, "attempt", j.Attempts)
	if j.Attempts > k.maxAttempts {
		// Every allowed run was claimed and none finished: the workers died
		// (a crash, an OOM kill) rather than the handler failing.
		msg := cleanError(fmt.Sprintf("gave up after %d attempts; last: %s", j.Attempts-1, j.LastError))
		log.Error("job dead-lettered", "err", msg)
		return result{id: j.ID, key: j.Key, out: dead, err: msg}
	}
	ctx, cancel := context.WithTimeout(q.runCtx, k.timeout)
	err := call(ctx, k.h, j, log)
	cancel()
	if err == nil {
		return result{id: j.ID, key: j.Key, out: done}
	}
	if errors.Is(context.Cause(q.runCtx), errStopped) {
		log.Info("job released at shutdown", "err", cleanError(err.Error()))
		return result{id: j.ID, key: j.Key, out: release}
	}
	msg := cleanError(err.Error())
	var sn *snoozeError
	if errors.As(err, &sn) {
		return result{id: j.ID, key: j.Key, out: snooze, err: msg, runAt: q.now().Add(sn.d)}
	}
	var perm *permanentError
	if errors.As(err, &perm) || j.Attempts >= k.maxAttempts {
		log.Error("job dead-lettered", "err", msg)
		return result{id: j.ID, key: j.Key, out: dead, err: msg}
	}
	delay := backoff(j.Attempts, k.backoffBase, k.backoffMax, rand.Float64())
	var ra *retryAfterError
	if errors.As(err, &ra) && ra.d > 0 {
		delay = ra.d
	}
	log.Warn("job failed; will retry", "err", msg, "in", delay)
	return result{id: j.ID, key: j.Key, out: retry, err: msg, runAt: q.now().Add(delay)}
}

// call runs h, turning a panic into an error so one bad job cannot take the
// process down.
func call(ctx context.Context, h Handler, j *Job, log *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			log.Error("job handler panicked", "panic", cleanError(fmt.Sprint(r)), "stack", string(debug.Stack()))
		}
	}()
	return h(ctx, j)
}
