package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// When flow work must not go on.
//
// New inbound messages reach the runner only through the webhook
// processor, which holds a paused workspace's events, and the app's
// privacy gate, which keeps a blocked contact's messages from flows. The
// work the runner's jobs resume later (a delay's end, a question's
// timeout, a held start, a request node) comes through neither, so it is
// checked here:
//
//   - the operator's kill switch pausing processing (Options.Paused):
//     the job waits (job.Snooze, no attempt used) and runs once processing
//     resumes, exactly as it would have; ProfileSettled starts nothing and
//     leaves the held flows to their jobs;
//   - a contact automation may not touch (Options.Blocked: restricted,
//     objecting, consent withdrawn, a minor) and a workspace waiting to
//     be deleted: the session ends without a word, like one a person took
//     over, and a request node makes no request, so no action runs and no
//     contact data leaves.

// pauseRetry is how long a job held by the kill switch waits before it
// looks again. The check is a lookup, but every waiting session has a
// job: an incident of hours should not keep the queue busy with them,
// and a flow's delay resuming a few seconds late is no harm.
const pauseRetry = 15 * time.Second

// reasonDeleting is the reason stopped gives for a workspace waiting to be
// deleted (promise P-33): nobody may reach it, so its flows do not go on.
const reasonDeleting = "workspace_deleting"

var (
	// errPaused is why a job held by the kill switch waits (its last
	// error).
	errPaused = errors.New("flow: processing is paused by the operator's kill switch")
	// errStopped: automation may not go on for the session (stopped).
	errStopped = errors.New("run: automation stopped for this session")
)

// paused reports whether processing of the workspace is paused now.
func (r *Runner) paused(ws string) bool { return r.opt.Paused != nil && r.opt.Paused(ws) }

// stopped reports why automation may not go on for the contact of a
// waiting session ("" when it may): the workspace is being deleted
// (deleting, read with the session's conversation) or the contact is
// blocked (Options.Blocked, asked through idb).
func (r *Runner) stopped(ctx context.Context, idb bun.IDB, ws, contactID string, deleting bool) (string, error) {
	if deleting {
		return reasonDeleting, nil
	}
	if r.opt.Blocked == nil {
		return "", nil
	}
	why, err := r.opt.Blocked(ctx, idb, ws, contactID)
	if err != nil {
		return "", fmt.Errorf("flow: privacy check: %w", err)
	}
	return why, nil
}
