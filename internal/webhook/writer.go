package webhook

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/uptrace/bun"
)

// delivery is one verified request waiting for the writer.
type delivery struct {
	id     string
	raw    []byte // the body in clear, handed to the processor once stored
	sealed []byte
	at     time.Time
	// done receives the outcome of the transaction that stored the
	// delivery: nil once committed. Buffered, so the writer never waits for
	// a request.
	done chan error
}

// batchBytes closes a batch early once its sealed bodies add up to this
// much, so that one store transaction stays small even when Meta sends its
// largest payloads.
const batchBytes = 8 << 20

// write is the group-commit writer, the only goroutine that stores
// deliveries. It takes the first waiting delivery, collects more for up to
// FlushEvery (or until BatchMax deliveries or batchBytes), stores them all
// in one transaction and answers every request of the batch. While a
// transaction runs, new requests queue, so batches grow with the load and
// the per-delivery cost of a commit shrinks.
func (in *Intake) write() {
	defer close(in.done)
	b := batch{max: in.opt.BatchMax}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case d := <-in.queue:
			b.add(d)
		case <-in.stopping:
			in.drain(&b)
			return
		}
		timer.Reset(in.opt.FlushEvery)
	collect:
		for !b.full() {
			select {
			case d := <-in.queue:
				b.add(d)
			case <-timer.C:
				break collect
			case <-in.stopping:
				break collect // the next round drains the rest
			}
		}
		timer.Stop()
		in.flush(&b)
	}
}

// drain stores everything still queued when Stop was called. No request
// can queue more by then (see Stop).
func (in *Intake) drain(b *batch) {
	for {
		select {
		case d := <-in.queue:
			if b.add(d); b.full() {
				in.flush(b)
			}
		default:
			if len(b.ds) > 0 {
				in.flush(b)
			}
			return
		}
	}
}

// batch is the deliveries one transaction will store.
type batch struct {
	ds    []*delivery
	bytes int
	max   int
}

func (b *batch) add(d *delivery) {
	b.ds = append(b.ds, d)
	b.bytes += len(d.sealed)
}

func (b *batch) full() bool { return len(b.ds) >= b.max || b.bytes >= batchBytes }

// reset empties b, dropping its sealed bodies now rather than when a slot
// is reused.
func (b *batch) reset() {
	clear(b.ds)
	b.ds, b.bytes = b.ds[:0], 0
}

// busyFor is how long after the last stored delivery Busy still says so:
// long enough to cover the gaps between deliveries of a steady stream and
// the processing that follows the last one.
const busyFor = 2 * time.Second

// Busy reports whether the webhook path has work: a delivery was stored
// within busyFor, or processing has deliveries waiting or has not caught up
// since it started or was paused (a backlog after a pause or an overload
// drains with the writer to itself). Background work that shares the
// writer (the search indexer) keeps to a small share of it while this
// holds and catches up once traffic has eased.
func (in *Intake) Busy() bool {
	if last := in.lastStored.Load(); last != 0 && time.Since(time.Unix(0, last)) < busyFor {
		return true
	}
	p := in.proc
	return p != nil && (!p.caughtUp.Load() || p.oldest.Load() != 0)
}

// flush stores the batch in one transaction, hands it to the processor,
// answers its requests and empties it. The transaction has its own
// deadline, not the requests' contexts: a client that hung up still has
// its delivery stored.
func (in *Intake) flush(b *batch) {
	err := in.commit(b.ds)
	switch {
	case err != nil:
		err = fmt.Errorf("webhook: store %d deliveries: %w", len(b.ds), err)
	default:
		in.lastStored.Store(time.Now().UnixNano())
		if in.proc != nil {
			in.proc.offer(b.ds)
		}
	}
	for _, d := range b.ds {
		d.done <- err
	}
	b.reset()
}

// commit runs the store transaction. A panic in it (a driver bug, say)
// rolls it back and fails the batch instead of killing the writer, which
// would leave every later request waiting.
func (in *Intake) commit(ds []*delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			in.log.Error("webhook store panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), in.opt.CommitTimeout)
	defer cancel()
	return in.first.store(func() error {
		return in.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return in.storeBatch(ctx, tx, ds) })
	})
}

// storeBatch inserts the deliveries, pending: the table is processing's
// durable queue, so nothing else needs writing.
func (in *Intake) storeBatch(ctx context.Context, tx bun.Tx, batch []*delivery) error {
	if err := in.deliveries.insert(ctx, tx, batch); err != nil {
		return err
	}
	if hook := in.beforeCommit.Load(); hook != nil {
		return (*hook)(len(batch))
	}
	return nil
}
