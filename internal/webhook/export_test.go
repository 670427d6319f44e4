package webhook

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// AgeBusy moves the last stored delivery d into the past, as if d had
// passed since (Busy's window).
func (in *Intake) AgeBusy(d time.Duration) {
	in.lastStored.Add(-int64(d))
}

// SetBeforeCommit makes every store transaction run f just before it
// commits; an error from f rolls the transaction back. nil removes it.
func (in *Intake) SetBeforeCommit(f func() error) {
	if f == nil {
		in.beforeCommit.Store(nil)
		return
	}
	in.SetBeforeCommitBatch(func(int) error { return f() })
}

// SetBeforeCommitBatch is SetBeforeCommit with the number of deliveries
// the transaction stores.
func (in *Intake) SetBeforeCommitBatch(f func(n int) error) {
	if f == nil {
		in.beforeCommit.Store(nil)
		return
	}
	in.beforeCommit.Store(&f)
}

// SetBeforeApply makes every processing transaction run f first; an error
// (or a panic) from f fails the transaction. nil removes it.
func (in *Intake) SetBeforeApply(f func(bun.Tx) error) {
	if f == nil {
		in.beforeApply.Store(nil)
		return
	}
	in.beforeApply.Store(&f)
}

// Queued is how many verified deliveries wait for the writer.
func (in *Intake) Queued() int { return len(in.queue) }

// Backlog is how many stored deliveries the processor holds in memory.
func (in *Intake) Backlog() int {
	in.proc.mu.Lock()
	defer in.proc.mu.Unlock()
	return len(in.proc.mem)
}

// StoredChunk reads the sealed bodies of the listed deliveries now and
// returns a function that runs one processing transaction over them, the
// way a catch-up does, and returns the IDs it applied; it may be called
// again after they are gone.
func (in *Intake) StoredChunk(ids ...string) (func() ([]string, error), error) {
	var items []item
	for _, id := range ids {
		it := item{id: id}
		if err := in.d.W.NewRaw(`SELECT body FROM webhook_deliveries WHERE id = ?`, id).Scan(context.Background(), &it.sealed); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return func() ([]string, error) {
		// processChunk wipes what it opens; each run opens its own copy.
		chunk := make([]item, len(items))
		for i, it := range items {
			chunk[i] = item{id: it.id, sealed: append([]byte(nil), it.sealed...)}
		}
		return in.processChunk(chunk, nil)
	}, nil
}

// WriterDone is closed once the writer has exited (after Stop).
func (in *Intake) WriterDone() <-chan struct{} { return in.done }

// CaughtUp reports whether the processor has caught up since it started
// or resumed: it works from memory, and would shed past MaxLag.
func (in *Intake) CaughtUp() bool { return in.proc.caughtUp.Load() }
