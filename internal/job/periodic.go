package job

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// periodic is one named task from Periodic.
type periodic struct {
	name  string
	every time.Duration
	kind  string
	last  time.Time // latest slot this queue saw taken; touched only by the dispatcher
}

// Slot is the payload of a periodic job: which task and which time slot it
// runs for, so a handler can work on "everything up to Start".
type Slot struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
}

// Periodic registers a named task: once per slot of length every (slots are
// aligned to the zero time in UTC, so 24h means each UTC day), a job of kind
// is enqueued with a Slot payload. Slots of one task run one at a time and
// in order (they share an ordering key), so a slow run delays the next slot
// instead of overlapping it. However many queues share the database,
// each slot is enqueued once: the queues compare-and-set the slot in
// job_periodic. A slot missed while no queue ran is not made up, but the
// current one is enqueued at start, so a task runs soon after a deployment
// and then at each slot boundary (within PollInterval).
//
// Register all periodic tasks in one place (the composition root) before
// Start; the kind must be registered by Start. It panics on a duplicate name,
// a non-positive interval, or after Start.
func (q *Queue) Periodic(name string, every time.Duration, kind string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case name == "" || kind == "" || every <= 0:
		panic("job: Periodic needs a name, a positive interval and a kind")
	case q.started:
		panic("job: Periodic " + name + " after Start")
	}
	for _, p := range q.periodic {
		if p.name == name {
			panic("job: periodic task " + name + " registered twice")
		}
	}
	q.periodic = append(q.periodic, &periodic{name: name, every: every, kind: kind})
}

// schedule enqueues the current slot of every periodic task this queue has
// not yet seen taken. It is cheap when nothing is due: one comparison per
// task, no query.
func (q *Queue) schedule(ctx context.Context, now time.Time) {
	woke := false
	for _, p := range q.periodic {
		slot := now.Truncate(p.every)
		if !slot.After(p.last) {
			continue
		}
		won, err := q.takeSlot(ctx, p, slot)
		if err != nil {
			q.log.Error("periodic task not scheduled; retrying at the next poll", "task", p.name, "err", err)
			continue
		}
		p.last = slot
		woke = woke || won
	}
	if woke {
		q.Notify()
	}
}

// takeSlot moves the task's last_slot forward to slot and, if this call is
// the one that moved it, enqueues the slot's job in the same transaction.
// The upsert only changes a row whose slot is older, so of several queues
// racing for one slot exactly one sees a row affected.
func (q *Queue) takeSlot(ctx context.Context, p *periodic, slot time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, q.opt.Lease)
	defer cancel()
	won := false
	err := q.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw(`INSERT INTO job_periodic (name, last_slot) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET last_slot = excluded.last_slot
			WHERE job_periodic.last_slot < excluded.last_slot`, p.name, slot).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another queue took this slot (or a later one)
		}
		won = true
		body, err := encodePayload(Slot{Name: p.name, Start: slot})
		if err != nil {
			return err
		}
		now := q.now()
		_, err = q.insert(ctx, tx, newRow{kind: p.kind, payload: body, key: "periodic:" + p.name,
			unique: fmt.Sprintf("periodic:%s:%s", p.name, slot.Format(time.RFC3339)), runAt: now, now: now})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("job: periodic %s: %w", p.name, err)
	}
	return won, nil
}
