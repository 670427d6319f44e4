package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
)

// Retry settings of the runner's jobs. A resume only touches the
// database; a request job's timeout covers the longest request a node may
// make plus the transaction that applies it.
const (
	resumeMaxAttempts = 8
	resumeTimeout     = time.Minute
	httpMaxAttempts   = 3
	httpJobTimeout    = 2 * time.Minute
)

// Register installs the job handlers (KindResume, KindHTTP) on
// Options.Jobs. Call it once, before the queue starts.
func (r *Runner) Register() {
	r.opt.Jobs.Register(KindResume, r.handleResume, job.MaxAttempts(resumeMaxAttempts), job.Timeout(resumeTimeout),
		job.Backoff(2*time.Second, 5*time.Minute))
	r.opt.Jobs.Register(KindHTTP, r.handleHTTP, job.MaxAttempts(httpMaxAttempts), job.Timeout(httpJobTimeout),
		job.Backoff(5*time.Second, time.Minute))
}

// handleResume ends the delay or the question's time the session waits
// for, or starts the flow held for the contact's profile, if the session
// still waits for what the job was made for.
func (r *Runner) handleResume(ctx context.Context, j *job.Job) error {
	var p resumeJob
	if err := j.Decode(&p); err != nil {
		return job.Permanent(err)
	}
	if r.paused(p.WS) {
		return job.Snooze(pauseRetry, errPaused)
	}
	return r.resume(ctx, p, resumeInput)
}

// resumeInput is what a session's deadline means: a delay's end, a
// question's timeout, or the start of a flow held for the profile.
func resumeInput(t *turn, _ *Program) Input {
	switch t.sess.Status {
	case StatusStarting:
		return Input{Kind: InputStart}
	case StatusWaiting:
		return Input{Kind: InputResume}
	}
	return Input{Kind: InputTimeout}
}

// handleHTTP makes the request of the http node the session waits at,
// outside any transaction (a request may take seconds; the SQLite writer
// is never held meanwhile), then resumes the session with the outcome in
// a transaction of its own. The request is made again if the job is
// retried after it: at least once, like every job.
func (r *Runner) handleHTTP(ctx context.Context, j *job.Job) error {
	var p resumeJob
	if err := j.Decode(&p); err != nil {
		return job.Permanent(err)
	}
	if r.paused(p.WS) {
		return job.Snooze(pauseRetry, errPaused) // before the request: nothing leaves
	}
	req, err := r.request(ctx, p)
	switch {
	case errors.Is(err, errStale):
		return nil
	case errors.Is(err, errStopped):
		// No request carries the contact's data anywhere: the session
		// ends without a word (resume looks again in its transaction).
		return r.resume(ctx, p, nil)
	}
	var res CallResult
	switch {
	case err != nil && errors.Is(err, errRender):
		res = CallResult{Err: err}
	case err != nil:
		return err
	case r.opt.Caller == nil:
		res = CallResult{Err: errors.New("run: no caller configured")}
	default:
		res = Result(r.opt.Caller.Call(ctx, req))
	}
	if res.Err != nil {
		r.log.Info("flow request failed", "workspace", p.WS, "conversation", p.Conv, "error", res.Err)
	}
	return r.resume(ctx, p, func(*turn, *Program) Input { return Input{Kind: InputHTTP, HTTP: res} })
}

// errRender marks a request that cannot be rendered: the node fails, the
// job does not.
var errRender = errors.New("run: request cannot be rendered")

// request renders the request of the session p names, through the reader
// pool: errStale when the session moved on, errStopped when automation
// may not go on for it (stopped).
func (r *Runner) request(ctx context.Context, p resumeJob) (CallRequest, error) {
	var req CallRequest
	// Through the reader pool: the writer is not held for a request.
	t, prog, why, err := r.resumable(ctx, r.opt.DB.R, p)
	if err != nil {
		return CallRequest{}, err
	}
	if why != "" {
		return CallRequest{}, errStopped
	}
	if t.sess.Status != StatusWaiting {
		return CallRequest{}, errStale
	}
	env, err := t.env(prog)
	if err != nil {
		return CallRequest{}, err
	}
	if req, err = prog.Request(t.sess.State, env); err != nil {
		err = fmt.Errorf("%w: %w", errRender, err)
	}
	return req, err
}

// resume steps the session p names on the input in gives, in a
// transaction that first locks the conversation (so the step is ordered
// with the person's messages), then hands what the run says to the inbox
// (Automate) and sends it once committed. A job whose token is stale
// does nothing. The session ends without a word when in is nil, when a
// person took the conversation over, and when automation may not go on
// for it (stopped: the contact is blocked, the workspace being deleted):
// no node runs, so no action and no reply.
func (r *Runner) resume(ctx context.Context, p resumeJob, in func(*turn, *Program) Input) error {
	var eff inbox.Effects
	err := r.opt.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		conv, err := r.opt.Inbox.LockConversation(ctx, tx, p.WS, p.Conv)
		if errors.Is(err, db.ErrNotFound) {
			return errStale // erased meanwhile
		}
		if err != nil {
			return err
		}
		t, prog, why, err := r.resumable(ctx, tx, p)
		if err != nil {
			return err
		}
		if why != "" {
			r.log.Info("flow ended: automation may not go on", "workspace", p.WS, "conversation", p.Conv, "reason", why)
		}
		if why != "" || in == nil || (conv.Owner != inbox.OwnerBot && conv.Owner != inbox.OwnerAI) {
			// Never speak while a person has the conversation, nor act
			// for a contact automation may not touch: the wait is over,
			// silently.
			t.count(prog, prog.Abandon(t.sess.State))
			t.stepped, t.state = true, State{FlowID: prog.FlowID, Version: prog.Version, Status: StatusEnded}
			_, err := t.commit()
			return err
		}
		out, err := t.step(prog, t.sess.State, in(t, prog))
		if err != nil {
			return err
		}
		if !out.Consumed {
			return errStale
		}
		resp, err := t.commit()
		if err != nil {
			return err
		}
		author := inbox.Author{Type: inbox.SenderFlow, ID: resp.FlowID}
		if conv.Owner == inbox.OwnerAI {
			author.Type = inbox.SenderAI
		}
		eff, err = r.opt.Inbox.Automate(ctx, tx, p.WS, p.Conv, author, resp)
		return err
	})
	if errors.Is(err, errStale) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("flow: resume: %w", err)
	}
	r.opt.Inbox.Notify(eff)
	return nil
}

// resumable starts a turn on the conversation p names and returns it with
// the program its session runs and why automation may not go on for it
// ("" when it may: see stopped); errStale unless the session still waits
// with p's token.
func (r *Runner) resumable(ctx context.Context, idb bun.IDB, p resumeJob) (*turn, *Program, string, error) {
	var c struct {
		ContactID string `bun:"contact_id"`
		Type      string `bun:"type"`
		Locale    string `bun:"locale"`
		Deleting  int    `bun:"deleting"`
	}
	err := idb.NewRaw(`SELECT cv.contact_id, ch.type, ct.locale,
		CASE WHEN w.deletion_requested_at IS NULL THEN 0 ELSE 1 END AS deleting FROM conversations cv
		JOIN channels ch ON ch.id = cv.channel_id JOIN contacts ct ON ct.id = cv.contact_id
		JOIN workspaces w ON w.id = cv.workspace_id
		WHERE cv.workspace_id = ? AND cv.id = ?`, p.WS, p.Conv).Scan(ctx, &c)
	if errors.Is(db.NoRows(err), db.ErrNotFound) {
		return nil, nil, "", errStale
	}
	if err != nil {
		return nil, nil, "", err
	}
	t, err := r.newTurn(ctx, idb, p.WS, p.Conv, c.ContactID, c.Type, c.Locale)
	if err != nil {
		return nil, nil, "", err
	}
	if t.sess.Token != p.Token || !t.sess.waits() {
		return nil, nil, "", errStale
	}
	prog, found, err := t.program(t.sess.FlowID, t.sess.Version)
	if err != nil {
		return nil, nil, "", err
	}
	if !found {
		return nil, nil, "", errStale
	}
	why, err := r.stopped(ctx, idb, p.WS, c.ContactID, c.Deleting != 0)
	if err != nil {
		return nil, nil, "", err
	}
	return t, prog, why, nil
}
