package run

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/flow/trigger"
	"github.com/parleyhq/parley/internal/inbox"
)

// Respond implements inbox.Responder: inside the transaction that stored
// the person's message, tap or referral, it decides what the flows say.
// In order:
//
//  0. a flow held for the contact's profile (profile.go) starts, so the
//     message never overtakes its greeting;
//  1. a tap on a quick reply, button or choice the runner sent continues
//     where it leads, in the flow version that sent it;
//  2. a session waiting for the contact takes the message: the answer to
//     its question (a wrong answer that fires another flow's trigger
//     starts that flow instead: the way out of a question), or the tap
//     it waits for; a delay that the contact's reply cancels ends;
//  3. otherwise the triggers of the workspace's published flows are
//     matched, and the winner's live version starts — or, when it reads
//     names and a new contact's profile is still being fetched, is held
//     until the profile comes (profile.go); while a delay or a request is
//     pending only a deliberate trigger (not the default) may interrupt
//     it;
//  4. when nothing matched and no default reply is cooling down, the
//     channel's fixed automatic reply answers, as without flows.
//
// The inbox calls Respond only for conversations the bot or the AI agent
// owns and never for a redelivered event, so flows never speak over a
// person and never run a node twice for one message.
func (r *Runner) Respond(ctx context.Context, tx bun.Tx, in inbox.Incoming) (inbox.Response, error) {
	ev := in.Event
	var text, payload, ref string
	kind := trigger.EventText
	switch ev.Kind {
	case channel.EventMessage:
		text, payload = ev.Content.Text, ev.Content.Payload
	case channel.EventPostback:
		kind = trigger.EventPayload
		if pb := ev.Content.Postback; pb != nil {
			text, payload = pb.Title, pb.Payload
		}
		if gs := in.Channel.Settings.GetStarted; gs != "" && payload == gs {
			kind = trigger.EventGetStarted
		}
	case channel.EventReferral:
		kind = trigger.EventRef
	default:
		return inbox.Response{}, nil // opt-ins, reactions: nothing to answer
	}
	if rf := ev.Content.Referral; rf != nil {
		ref = rf.Ref
	}
	t, err := r.newTurn(ctx, tx, in.Channel.WorkspaceID, in.Conversation.ID, in.Contact.ID, string(in.Channel.Type), in.Contact.Locale)
	if err != nil {
		return inbox.Response{}, fmt.Errorf("flow: respond: %w", err)
	}
	t.profilePending = in.ProfilePending
	m := message{kind: kind, text: text, payload: payload, ref: ref,
		first: (ev.Kind == channel.EventMessage || ev.Kind == channel.EventPostback) && in.Conversation.InteractionCount == 1}
	resp, err := t.respond(m, in)
	if err != nil {
		return inbox.Response{}, fmt.Errorf("flow: respond: %w", err)
	}
	return resp, nil
}

// message is an inbound event as the runner reads it.
type message struct {
	kind               trigger.EventKind
	text, payload, ref string
	// first is the contact's first message or postback in the
	// conversation (conversation_start triggers).
	first bool
}

func (t *turn) respond(m message, in inbox.Incoming) (inbox.Response, error) {
	// 0. A flow held for the contact's profile starts first: the message
	// must not overtake its greeting (profile.go).
	if err := t.release(); err != nil {
		return inbox.Response{}, err
	}
	// 1. A tap on one of the runner's own payloads.
	if tap, ok := t.r.payloads(t.ws).Decode(m.payload); ok {
		p, found, err := t.program(tap.FlowID, tap.Version)
		if err != nil {
			return inbox.Response{}, err
		}
		if found {
			env, err := t.env(p)
			if err != nil {
				return inbox.Response{}, err
			}
			out := p.Step(t.sess.State, Input{Kind: InputTap, Tap: tap, Text: m.text}, env)
			if out.Consumed {
				if !p.owns(t.sess.State) {
					if err := t.abandon(); err != nil {
						return inbox.Response{}, err
					}
				}
				if err := t.apply(p, out); err != nil {
					return inbox.Response{}, err
				}
				return t.commit()
			}
		}
		// A tap that leads nowhere now is the author's payload, if any.
		m.payload = tap.Payload
	}

	// 2. The session waiting for the contact. A referral (an m.me link
	// opened on an existing thread) is not something the person said: it
	// only goes to the triggers, and only deliberate ones while a session
	// waits.
	quiet := false
	if m.kind == trigger.EventRef {
		quiet = t.sess.Active()
	} else if t.sess.Active() {
		p, found, err := t.program(t.sess.FlowID, t.sess.Version)
		if err != nil {
			return inbox.Response{}, err
		}
		if found {
			env, err := t.env(p)
			if err != nil {
				return inbox.Response{}, err
			}
			out := p.Step(t.sess.State, Input{Kind: InputMessage, Text: m.text, Payload: m.payload}, env)
			switch {
			case out.Consumed && out.Invalid:
				// A wrong answer that is another flow's keyword leaves the
				// question for that flow.
				if res, ok, err := t.match(m, true); err != nil || ok {
					if err != nil {
						return inbox.Response{}, err
					}
					return t.start(res)
				}
				fallthrough
			case out.Consumed:
				if err := t.apply(p, out); err != nil {
					return inbox.Response{}, err
				}
				return t.commit()
			case out.State.Status == StatusEnded:
				// A delay the reply cancels: the flow ends and the message
				// goes on as if no flow ran.
				t.count(p, out.Events)
				t.stepped, t.state, t.wait = true, out.State, nil
				t.sess.State = out.State
			case t.sess.abandoned(t.now):
				// Its job failed for good: the flow ends, and the message
				// goes on as if no flow ran.
				t.stepped, t.state, t.wait = true, State{Status: StatusEnded}, nil
				t.sess.State = t.state
			case t.sess.Status == StatusWaiting:
				quiet = true
			}
		} else {
			t.stepped, t.state = true, State{Status: StatusEnded} // its version is gone: nothing to wait for
		}
	}

	// 3. Triggers.
	res, ok, err := t.match(m, quiet)
	if err != nil {
		return inbox.Response{}, err
	}
	if ok {
		return t.start(res)
	}
	// 4. The channel's fixed reply, unless a flow is mid-way or the
	// default reply is cooling down.
	if !quiet && !res.CoolingDown {
		t.resp = inbox.AutoReplyTo(in)
	}
	return t.commit()
}

// match finds the trigger the message fires. deliberate leaves out the
// triggers that fire without the person asking for a flow (the default
// reply, conversation start): those must not interrupt a running one.
func (t *turn) match(m message, deliberate bool) (trigger.Result, bool, error) {
	l, err := t.published()
	if err != nil || l.matcher == nil {
		return trigger.Result{}, false, err
	}
	ev := trigger.Event{Kind: m.kind, Text: m.text, Payload: m.payload, Ref: m.ref, Channel: t.channel,
		NewConversation: m.first && !deliberate, LastDefaultAt: t.lastDefault, Now: t.now}
	if deliberate {
		for _, res := range l.matcher.MatchAll(ev) {
			if res.Kind != trigger.KindDefault && res.Kind != trigger.KindConversationStart {
				return res, true, nil
			}
		}
		return trigger.Result{}, false, nil
	}
	res, ok := l.matcher.Match(ev)
	return res, ok, nil
}

// start starts the live version of the flow a trigger fired, leaving the
// session the turn found.
func (t *turn) start(res trigger.Result) (inbox.Response, error) {
	pub, ok := t.live.flows[res.FlowID]
	if !ok {
		return t.commit()
	}
	p, found, err := t.program(pub.FlowID, pub.Version)
	if err != nil || !found {
		if err != nil {
			return inbox.Response{}, err
		}
		return t.commit()
	}
	if err := t.abandon(); err != nil {
		return inbox.Response{}, err
	}
	if res.Kind == trigger.KindDefault {
		t.lastDefault = t.now
	}
	if p.Needs.Names && t.profilePending {
		// A new contact's name is on its way: greet them by it.
		return t.hold(p)
	}
	t.r.log.Debug("flow started", "workspace", t.ws, "flow", pub.FlowID, "version", pub.Version,
		"trigger", res.RuleID, "kind", strings.ToLower(string(res.Kind)))
	if _, err := t.step(p, State{}, Input{Kind: InputStart}); err != nil {
		return inbox.Response{}, err
	}
	return t.commit()
}
