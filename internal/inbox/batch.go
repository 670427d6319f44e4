package inbox

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// writeTimeout bounds one group-commit transaction.
const writeTimeout = 30 * time.Second

// errBatcherClosed is an add after close.
var errBatcherClosed = errors.New("inbox: batcher closed")

// batcher is group commit: one goroutine writes whatever has been added
// since its last write, in one transaction (flush), up to batchMax items.
// Without linger nothing waits for a timer: under light load a batch is
// one item written at once, under heavy load batches grow while the
// previous one commits, so the transactions per second stay few. With
// linger, a batch waits that long after its first item for company: for
// writes nobody waits on.
type batcher[T any] struct {
	ctx    context.Context
	flush  func(context.Context, []T) error
	log    *slog.Logger
	linger time.Duration

	mu     sync.RWMutex // add holds it shared, close exclusively
	closed bool
	in     chan T
	done   chan struct{}
}

func newBatcher[T any](ctx context.Context, flush func(context.Context, []T) error, log *slog.Logger, linger time.Duration) *batcher[T] {
	b := &batcher[T]{ctx: ctx, flush: flush, log: log, linger: linger, in: make(chan T, batchQueue), done: make(chan struct{})}
	go b.loop()
	return b
}

// add queues x for the next write; it blocks while the queue is full.
func (b *batcher[T]) add(x T) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return errBatcherClosed
	}
	b.in <- x
	return nil
}

// close writes what was added and stops.
func (b *batcher[T]) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	<-b.done
}

func (b *batcher[T]) loop() {
	defer close(b.done)
	batch := make([]T, 0, batchMax)
	for x := range b.in {
		batch = append(batch[:0], x)
		var wait <-chan time.Time
		var timer *time.Timer
		if b.linger > 0 {
			timer = time.NewTimer(b.linger)
			wait = timer.C
		}
	more:
		for len(batch) < batchMax {
			select {
			case y, ok := <-b.in:
				if !ok {
					break more
				}
				batch = append(batch, y)
				continue
			default:
			}
			if wait == nil {
				break
			}
			select {
			case y, ok := <-b.in:
				if !ok {
					break more
				}
				batch = append(batch, y)
			case <-wait:
				break more
			}
		}
		if timer != nil {
			timer.Stop()
		}
		// A write gets its own deadline: the batcher's context may already
		// be cancelled while close drains the last items.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), writeTimeout)
		if err := b.flush(ctx, batch); err != nil {
			b.log.Warn("group commit failed", "items", len(batch), "err", err)
		}
		cancel()
	}
}
