package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// State is where a job is in its life. Finished jobs are deleted, so there
// is no "done" state.
type State string

// The states a row in the jobs table can be in.
const (
	// Pending jobs wait for their run_at or for a free worker.
	Pending State = "pending"
	// Waiting jobs wait for an earlier job with the same ordering key to
	// finish or die; then the earliest waiting one becomes pending.
	Waiting State = "waiting"
	// Running jobs are leased to one worker until locked_until.
	Running State = "running"
	// Dead jobs failed permanently or ran out of attempts. They stay until
	// Retry re-queues them or PurgeDead removes them, and block nothing.
	Dead State = "dead"
)

// Job is one unit of work as a handler (or a dead-letter listing) sees it.
type Job struct {
	ID   int64  `bun:"id" json:"id"`
	Kind string `bun:"kind" json:"kind"`
	// Payload is what Enqueue stored: JSON unless the producer passed raw
	// bytes. It may hold personal data: never log it. Dead leaves it nil.
	Payload []byte `bun:"payload" json:"-"`
	// Key is the ordering key ("" for none).
	Key string `bun:"ordering_key" json:"key,omitempty"`
	// UniqueKey is the idempotency key ("" for none).
	UniqueKey string `bun:"unique_key" json:"unique_key,omitempty"`
	State     State  `bun:"state" json:"state"`
	// Attempts counts the times the job has been claimed, including the
	// current run: a handler sees 1 on the first run.
	Attempts int       `bun:"attempts" json:"attempts"`
	RunAt    time.Time `bun:"run_at" json:"run_at"`
	// LastError is the previous failure, truncated and with URL queries and
	// credentials removed ("" if none).
	LastError string    `bun:"last_error" json:"last_error,omitempty"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at" json:"updated_at"`
}

// Decode unmarshals the JSON payload into v. A payload that does not decode
// is a Permanent error: no retry can fix it.
func (j *Job) Decode(v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return Permanent(fmt.Errorf("job: decode %s payload: %w", j.Kind, err))
	}
	return nil
}

// Handler runs one job. Returning nil finishes (deletes) it; an error
// schedules a retry with backoff, unless it is Permanent or the kind's
// attempts are used up, which dead-letters the job. A panic counts as an
// error. Handlers run at least once per job, maybe more (after a crash or a
// lost lease), so they must be idempotent. ctx ends at the kind's timeout
// or when Stop gives up waiting; a handler that returns because of the
// latter gets its job released, not failed.
type Handler func(ctx context.Context, j *Job) error

// Permanent marks err as not worth retrying: the job goes straight to the
// dead letters. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// RetryAfter asks for the next attempt no sooner than d from now, instead of
// the kind's backoff (for example when a provider answered "slow down, try
// in 30 s"). The attempt still counts towards MaxAttempts.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		err = errors.New("retry requested")
	}
	return &retryAfterError{d: d, err: err}
}

type retryAfterError struct {
	d   time.Duration
	err error
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// Snooze asks for the next run no sooner than d from now without counting
// this one towards MaxAttempts: for work deliberately held back rather than
// failing (an operator's kill switch pausing outbound sends, P-37), which
// may last longer than any retry budget. The job keeps its place at the
// head of its ordering key, so what waits behind it stays behind it.
// Snooze with d <= 0 waits one second.
func Snooze(d time.Duration, err error) error {
	if err == nil {
		err = errors.New("snoozed")
	}
	return &snoozeError{d: max(d, time.Second), err: err}
}

type snoozeError struct {
	d   time.Duration
	err error
}

func (e *snoozeError) Error() string { return e.err.Error() }
func (e *snoozeError) Unwrap() error { return e.err }

// Stats counts jobs by state, for metrics.
type Stats struct {
	Pending int64 `json:"pending"` // includes jobs scheduled for later
	Waiting int64 `json:"waiting"` // behind an earlier job with their ordering key
	Running int64 `json:"running"`
	Dead    int64 `json:"dead"`
}
