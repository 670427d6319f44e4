package run

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/inbox"
)

// DefaultProfileWait is how long a flow that greets a new contact by name
// waits for their profile (Options.ProfileWait) before it starts with the
// fallback text ({{contact.first_name|there}}). The platform usually
// answers the profile fetch within a second; a few seconds more of silence
// is a smaller harm than a "Hello there!" to someone whose name was about
// to be known.
const DefaultProfileWait = 5 * time.Second

// The first message greets by name.
//
// A new contact's profile is fetched by a job the inbox queues in the
// transaction that stores their first message, which is also where the
// runner answers: the name cannot be known yet. So when the flow a message
// starts reads names (Program.Needs.Names) and the inbox says the profile
// is still being fetched (inbox.Incoming.ProfilePending), the runner does
// not run it there: it holds it, a session in StatusStarting pinned to the
// flow version, with a new token and a KindResume job at now +
// ProfileWait. The flow then starts exactly once, whichever comes first:
//
//   - the inbox's profile job ends (fetched or unavailable) and calls
//     ProfileSettled, which starts the held flows of that contact with the
//     names just stored;
//   - the resume job fires (the fetch failed transiently, is slow, or its
//     end was missed: a crash, a race with the message's own
//     transaction), and the flow starts with whatever is known then,
//     falling back to the template's default.
//
// Both go through resume, which locks the conversation and checks the
// token, so the second finds the token moved and does nothing.
//
// A message from the contact arriving meanwhile does not overtake the
// greeting: Respond first starts the held flow (with the names known so
// far) and then handles the message as it would have after an immediate
// start — the answer to the flow's question, a tap, a new trigger. Only
// starts are held: a session already running (a tap, an answer, goto_flow)
// goes on at once with what is known. Flows that do not read names never
// wait, and holding costs no statement: the decision uses what the inbox
// and the compiled program already know.

// hold keeps p from starting until the contact's profile is known: the
// session waits in StatusStarting, with a resume job at the deadline.
func (t *turn) hold(p *Program) (inbox.Response, error) {
	t.stepped = true
	t.state = State{FlowID: p.FlowID, Version: p.Version, Status: StatusStarting}
	t.wait = &Wait{Kind: WaitProfile, Until: t.now.Add(t.r.opt.ProfileWait)}
	t.r.log.Debug("flow held for the contact's profile", "workspace", t.ws, "flow", p.FlowID, "version", p.Version)
	return t.commit()
}

// release starts the flow the session holds for the contact's profile,
// now, with the names known so far: the contact wrote again before the
// profile came, and their message must not overtake the greeting. The
// turn then goes on with the session the start left.
func (t *turn) release() error {
	if t.sess.Status != StatusStarting {
		return nil
	}
	p, found, err := t.program(t.sess.FlowID, t.sess.Version)
	if err != nil {
		return err
	}
	t.stepped = true
	if !found {
		t.state, t.wait = State{Status: StatusEnded}, nil
	} else if _, err := t.step(p, State{}, Input{Kind: InputStart}); err != nil {
		return err
	}
	t.sess.State = t.state
	return nil
}

// waits reports whether the session waits for something a job or the
// profile listener resumes: a wait of the core, or a held start.
func (s session) waits() bool { return s.Active() || s.Status == StatusStarting }

var _ inbox.ProfileListener = (*Runner)(nil)

// sqlHeld finds a contact's sessions held for its profile. The
// conversation is found through its unique (channel_id, contact_id)
// index, the session by its key.
const sqlHeld = `SELECT s.conversation_id, s.token FROM conversations c
	JOIN flow_sessions s ON s.conversation_id = c.id
	WHERE c.channel_id = ? AND c.contact_id = ? AND c.workspace_id = ? AND s.status = 'starting'`

// ProfileSettled implements inbox.ProfileListener: the contact's profile
// fetch has ended and its outcome is stored, so the flows held for it
// start now, each in a transaction of its own (see resume), exactly once:
// a resume job that fires later finds the token moved. An error leaves
// the held flows to their resume jobs, and so does processing paused by
// the kill switch (Options.Paused): the jobs wait for the resume.
func (r *Runner) ProfileSettled(ctx context.Context, ws, channelID, contactID string) error {
	if r.paused(ws) {
		return nil
	}
	var held []struct {
		Conv  string `bun:"conversation_id"`
		Token int64  `bun:"token"`
	}
	if err := r.opt.DB.R.NewRaw(sqlHeld, channelID, contactID, ws).Scan(ctx, &held); err != nil {
		return fmt.Errorf("flow: profile settled: %w", err)
	}
	var errs []error
	for _, h := range held {
		if err := r.resume(ctx, resumeJob{WS: ws, Conv: h.Conv, Token: h.Token}, resumeInput); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
