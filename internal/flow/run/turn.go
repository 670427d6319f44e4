package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/job"
	"github.com/parleyhq/parley/internal/validate"
)

// turn is what the runner does to one conversation in one transaction:
// the session it found, the programs it stepped and everything they did,
// applied in tx and summed up as the inbox.Response.
type turn struct {
	r   *Runner
	ctx context.Context
	// idb is where the turn reads: its transaction, or the reader pool
	// for a turn that only renders a request. tx is the transaction it
	// writes in (the zero Tx for a read-only turn, which writes nothing).
	idb bun.IDB
	tx  bun.Tx
	now time.Time

	ws, conv, contactID string
	channel             string // channel type
	locale              string
	// profilePending: the contact's profile is being fetched, so a flow
	// that reads names is held rather than started (profile.go).
	profilePending bool

	sess session
	rev  int64 // the workspace's flow revision, read with the session
	live *live // loaded on first use

	// The contact as runs see it, loaded as far as programs need.
	contact Contact
	have    Needs

	// What the turn did.
	stepped     bool // a program ran: the session is written
	state       State
	wait        *Wait
	steps       int
	lastDefault time.Time
	resp        inbox.Response
	stats       map[statKey]*NodeStats
	problems    []flowProblem
}

// statKey names one node of one version.
type statKey struct {
	flow    string
	version int
	node    string
}

// flowProblem is a problem of one version.
type flowProblem struct {
	flow    string
	version int
	Problem
}

// newTurn starts a turn on a conversation, reading its session through
// idb: the transaction the turn writes in, or the reader pool for a turn
// that only reads.
func (r *Runner) newTurn(ctx context.Context, idb bun.IDB, ws, conv, contactID, channelType, locale string) (*turn, error) {
	t := &turn{r: r, ctx: ctx, idb: idb, now: r.now(), ws: ws, conv: conv, contactID: contactID, channel: channelType, locale: locale}
	if tx, ok := idb.(bun.Tx); ok {
		t.tx = tx
	}
	var err error
	if t.sess, t.rev, err = r.loadSession(ctx, idb, ws, conv, contactID); err != nil {
		return nil, err
	}
	t.state, t.lastDefault = t.sess.State, t.sess.LastDefaultAt
	t.contact = Contact{Locale: locale, Channel: channelType}
	return t, nil
}

// published returns the workspace's live flows, once per turn.
func (t *turn) published() (*live, error) {
	if t.live == nil {
		l, err := t.r.published(t.ctx, t.idb, t.ws, t.rev)
		if err != nil {
			return nil, err
		}
		t.live = l
	}
	return t.live, nil
}

// program returns a version of one of the workspace's flows; ok is false
// when the version does not exist (never published, or not this
// workspace's).
func (t *turn) program(flowID string, v int) (*Program, bool, error) {
	p, err := t.r.program(t.ctx, t.idb, t.ws, flowID, v)
	if errors.Is(err, flow.ErrNoSuchVersion) || errors.Is(err, db.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return p, true, nil
}

// env is the environment of a run of p, loading what p reads of the
// contact that the turn has not loaded yet.
func (t *turn) env(p *Program) (Env, error) {
	n := p.Needs
	if n.Names && !t.have.Names {
		c, err := t.r.opt.Contacts.GetTx(t.ctx, t.idb, t.ws, t.contactID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			// Created in this very transaction (its names are not known
			// yet anyway), or erased.
		case err != nil:
			return Env{}, err
		default:
			t.contact.FirstName, t.contact.LastName = c.FirstName, c.LastName
			if t.locale == "" {
				t.locale, t.contact.Locale = c.Locale, c.Locale
			}
		}
		t.have.Names = true
	}
	if n.Tags && !t.have.Tags {
		tags, err := t.r.opt.Contacts.ContactTagsTx(t.ctx, t.idb, t.ws, t.contactID)
		if err != nil {
			return Env{}, err
		}
		t.contact.Tags = make([]string, 0, len(tags))
		for _, tg := range tags {
			t.contact.Tags = append(t.contact.Tags, tg.Name)
		}
		t.have.Tags = true
	}
	if n.Fields && !t.have.Fields {
		vals, err := t.r.opt.Contacts.FieldValuesTx(t.ctx, t.idb, t.ws, t.contactID)
		if err != nil {
			return Env{}, err
		}
		t.contact.Fields = make(map[string]string, len(vals))
		for k, v := range vals {
			t.contact.Fields[k] = v.Text
		}
		t.have.Fields = true
	}
	return Env{
		Contact: t.contact, Now: t.now, Location: t.r.location(t.ctx, t.idb, t.ws), Rand: t.r.opt.Rand, Zone: t.r.zone,
		MaxSteps: t.remaining(), Payloads: t.r.payloads(t.ws),
	}, nil
}

// remaining is the step budget left to this turn: the bound holds across
// everything one message sets off (a released greeting, then the flow
// its message starts), never reset to the default by running out.
func (t *turn) remaining() int {
	if n := t.r.opt.MaxSteps - t.steps; n > 0 {
		return n
	}
	return -1
}

// step runs p on in from the state st and applies the outcome: the turn's
// main move. It follows goto_flow into the targets' live versions, within
// the step bound and at most maxGotos jumps.
func (t *turn) step(p *Program, st State, in Input) (Output, error) {
	env, err := t.env(p)
	if err != nil {
		return Output{}, err
	}
	out := p.Step(st, in, env)
	return out, t.apply(p, out)
}

// apply records and applies what a step of p did, then follows its
// goto_flow, if any.
func (t *turn) apply(p *Program, out Output) error {
	for gotos := 0; ; gotos++ {
		t.stepped = true
		t.steps += out.Steps
		t.count(p, out.Events)
		for _, pr := range out.Problems {
			t.problems = append(t.problems, flowProblem{flow: p.FlowID, version: p.Version, Problem: pr})
		}
		if t.resp.FlowID == "" {
			t.resp.FlowID = p.FlowID // the author of the replies, the handoff, the resolve
		}
		for _, rp := range out.Replies {
			t.resp.Replies = append(t.resp.Replies, rp.Content)
		}
		for _, a := range out.Actions {
			if err := t.act(p, a); err != nil {
				return err
			}
		}
		if h := out.Handoff; h != nil {
			t.resp.Handoff, t.resp.Team = true, h.Team
		}
		t.resp.Resolve = t.resp.Resolve || out.Resolve
		t.state, t.wait = out.State, out.Wait
		if out.Goto == "" {
			return nil
		}
		next, ok, err := t.gotoTarget(p, out, gotos)
		if err != nil || !ok {
			return err
		}
		p = next
		env, err := t.env(p)
		if err != nil {
			return err
		}
		out = p.Step(State{}, Input{Kind: InputStart}, env)
	}
}

// gotoTarget finds the live version a goto_flow node jumps to; ok is
// false (with a problem recorded) when it cannot jump.
func (t *turn) gotoTarget(p *Program, out Output, gotos int) (*Program, bool, error) {
	fail := func(msg string) (*Program, bool, error) {
		t.problems = append(t.problems, flowProblem{flow: p.FlowID, version: p.Version,
			Problem: Problem{Node: out.GotoNode, Message: msg, Fatal: true}})
		return nil, false, nil
	}
	if gotos+1 > maxGotos {
		return fail(fmt.Sprintf("The flows jumped to one another more than %d times in a row; the run was stopped at node “%s”.", maxGotos, out.GotoNode))
	}
	if t.steps >= t.r.opt.MaxSteps {
		return fail(fmt.Sprintf("The run reached %d steps without waiting for the contact and was stopped at node “%s”.", t.r.opt.MaxSteps, out.GotoNode))
	}
	l, err := t.published()
	if err != nil {
		return nil, false, err
	}
	target, ok := l.flows[out.Goto]
	if !ok {
		return fail(fmt.Sprintf("Node “%s” goes to a flow that is not published (or was archived).", out.GotoNode))
	}
	next, ok, err := t.program(target.FlowID, target.Version)
	if err != nil || !ok {
		return nil, false, err
	}
	return next, true, nil
}

// abandon leaves the session the turn found, if it waits for something,
// because another run takes the conversation.
func (t *turn) abandon() error {
	if !t.sess.Active() {
		return nil
	}
	p, ok, err := t.program(t.sess.FlowID, t.sess.Version)
	if err != nil || !ok {
		return err
	}
	t.count(p, p.Abandon(t.sess.State))
	t.stepped = true
	t.state = State{FlowID: t.sess.FlowID, Version: t.sess.Version, Status: StatusEnded}
	t.wait = nil
	return nil
}

// count adds node events to the statistics.
func (t *turn) count(p *Program, evs []Event) {
	if p.Version == 0 || len(evs) == 0 {
		return // drafts (simulation) have no statistics
	}
	if t.stats == nil {
		t.stats = map[statKey]*NodeStats{}
	}
	for _, e := range evs {
		k := statKey{flow: p.FlowID, version: p.Version, node: e.Node}
		s := t.stats[k]
		if s == nil {
			s = &NodeStats{}
			t.stats[k] = s
		}
		switch e.Kind {
		case EventEntered:
			s.Entered++
		case EventCompleted:
			s.Completed++
		case EventDropped:
			s.Dropped++
		}
	}
}

// act applies one action in the transaction. What the contact's data
// refuses (a value a typed field does not take, a field since archived)
// becomes a problem for the author, never a failed transaction.
func (t *turn) act(p *Program, a Action) error {
	c := t.r.opt.Contacts
	by := contact.By{Kind: contact.ByFlow, ID: p.FlowID}
	var err error
	switch a.Type {
	case flow.ActionAddTag:
		_, _, err = c.TagContact(t.ctx, t.tx, t.ws, t.contactID, a.Tag, true, by)
	case flow.ActionRemoveTag:
		_, err = c.UntagContact(t.ctx, t.tx, t.ws, t.contactID, a.Tag)
	case flow.ActionSetField:
		_, err = c.SetField(t.ctx, t.tx, t.ws, t.contactID, a.Field, a.Value, contact.SetOptions{By: by, Region: t.region()})
	case flow.ActionClearField:
		_, err = c.ClearField(t.ctx, t.tx, t.ws, t.contactID, a.Field)
	case flow.ActionSetStage:
		_, err = c.SetStage(t.ctx, t.tx, t.ws, t.contactID, a.Stage, by)
		// The default pipeline's board follows the lead stage in the same
		// transaction (a no-op when the card is where it belongs).
		if err == nil && t.r.opt.Stages != nil {
			err = t.r.opt.Stages.SyncStage(t.ctx, t.tx, t.ws, t.contactID, a.Stage, by)
		}
	case flow.ActionSubscribe, flow.ActionUnsubscribe:
		// Topics arrive with broadcasts; until then a subscription is to
		// all of them.
		_, err = c.SetSubscribed(t.ctx, t.tx, t.ws, t.contactID, a.Type == flow.ActionSubscribe, by)
	case flow.ActionNotifyTeam:
		if t.r.opt.Notifier == nil {
			t.r.log.Info("notify_team has nowhere to go yet", "workspace", t.ws, "flow", p.FlowID, "node", a.Node)
			return nil
		}
		err = t.r.opt.Notifier.NotifyTeam(t.ctx, t.tx, t.ws, t.conv, a.Team, a.Text)
	case flow.ActionResolve:
		return nil // in the Response
	default:
		return nil
	}
	if err == nil {
		applyAction(&t.contact, a.Action)
		return nil
	}
	if msg, refused := refusal(a, err); refused {
		t.problems = append(t.problems, flowProblem{flow: p.FlowID, version: p.Version, Problem: Problem{Node: a.Node, Message: msg}})
		return nil
	}
	return fmt.Errorf("%s: %w", a.Type, err)
}

// region is the country phone numbers without a country code are read
// in: the contact's locale's.
func (t *turn) region() string { return contact.Contact{Locale: t.locale}.Region() }

// refusal says, without the value, why the contact's data refused an
// action; refused is false for errors that must fail the transaction.
func refusal(a Action, err error) (string, bool) {
	what := "Node “" + a.Node + "” could not " + strings.ReplaceAll(a.Type, "_", " ")
	switch {
	case errors.Is(err, contact.ErrNoSuchField):
		return what + ": the custom field “" + a.Field + "” does not exist.", true
	case errors.Is(err, contact.ErrFieldArchived):
		return what + ": the custom field “" + a.Field + "” is archived.", true
	case errors.Is(err, db.ErrNotFound):
		return what + ": the contact is gone.", true
	}
	if _, ok := validate.As(err); ok {
		switch a.Type {
		case flow.ActionSetField:
			return what + ": the value does not fit the custom field “" + a.Field + "” (its type refuses it).", true
		case flow.ActionAddTag, flow.ActionRemoveTag:
			return what + ": the tag name is not valid.", true
		}
		return what + ": the value is not valid.", true
	}
	return "", false
}

// commit writes what the turn did in its transaction: the session (with
// a new token when it changed), the job its wait needs, the statistics and
// the problems. It returns the Response for the inbox.
func (t *turn) commit() (inbox.Response, error) {
	if !t.stepped && t.lastDefault.Equal(t.sess.LastDefaultAt) {
		return t.resp, nil
	}
	s := t.sess
	s.Token++
	s.LastDefaultAt = t.lastDefault
	if t.stepped {
		if !(t.state.FlowID == s.FlowID && t.state.Version == s.Version && s.Active()) {
			s.StartedAt = t.now
		}
		s.State = t.state
		s.Deadline = time.Time{}
		if t.wait != nil {
			s.Deadline = t.wait.Until
			if t.wait.Kind == WaitHTTP {
				// The request has no deadline of its own; this one lets a
				// message end a session whose request job died (abandoned).
				s.Deadline = t.now.Add(httpWaitLimit)
			}
		}
		if !s.Active() {
			s.Vars, s.Attempts = nil, 0
		}
	}
	if err := t.r.saveSession(t.ctx, t.tx, t.ws, t.conv, t.contactID, s, t.now); err != nil {
		return inbox.Response{}, err
	}
	if err := t.enqueue(s); err != nil {
		return inbox.Response{}, err
	}
	if err := t.r.writeStats(t.ctx, t.tx, t.ws, t.conv, t.stats); err != nil {
		return inbox.Response{}, err
	}
	if err := t.r.writeProblems(t.ctx, t.tx, t.ws, t.problems, t.now); err != nil {
		return inbox.Response{}, err
	}
	return t.resp, nil
}

// Job kinds the Runner registers.
const (
	// KindResume resumes a session when its delay ends or its question
	// times out.
	KindResume = "flow.resume"
	// KindHTTP makes the request of the http node a session waits at,
	// outside any transaction, then resumes the session with the outcome.
	KindHTTP = "flow.http"
)

// resumeJob is the payload of both kinds: IDs and the session's token,
// never content.
type resumeJob struct {
	WS    string `json:"ws"`
	Conv  string `json:"conv"`
	Token int64  `json:"token"`
}

// enqueue adds the job the session's wait needs, carrying its token: a
// delay's end, a question's timeout, a request to make. The jobs have no
// ordering key, which would hold the conversation's sends back for the
// whole wait; they are ordered with the conversation by its row lock
// (inbox.LockConversation) and made harmless by the token instead.
func (t *turn) enqueue(s session) error {
	if t.wait == nil || !s.waits() {
		return nil
	}
	p := resumeJob{WS: t.ws, Conv: t.conv, Token: s.Token}
	var err error
	switch {
	case t.wait.Kind == WaitHTTP:
		_, err = t.r.opt.Jobs.Enqueue(t.ctx, t.tx, KindHTTP, p)
	case !t.wait.Until.IsZero():
		_, err = t.r.opt.Jobs.Enqueue(t.ctx, t.tx, KindResume, p, job.RunAt(t.wait.Until))
	default:
		return nil
	}
	if err != nil {
		return err
	}
	t.resp.Jobs++
	return nil
}
