package run

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/flow"
)

// machine is one Step in progress.
type machine struct {
	p   *Program
	env *Env
	st  State
	out Output
	// contact is the run's view of the contact: actions change it, so a
	// condition after an add_tag sees the tag. Its tags and fields are
	// copied on first change; Env's are never written.
	contact    Contact
	ownTags    bool
	ownFields  bool
	ownVars    bool
	steps, max int
}

// run executes nodes from id until the session waits or ends.
func (m *machine) run(id string) {
	m.st.Status = StatusRunning
	for id != "" {
		if m.steps >= m.max {
			m.fail(id, false, fmt.Sprintf("The flow ran %d steps in a row without waiting for the contact and was stopped at node “%s”. Look for a loop, and put a question or a delay in it.", m.max, id))
			return
		}
		n, ok := m.p.node(id)
		if !ok {
			m.fail(id, false, fmt.Sprintf("The flow jumps to the node “%s”, which does not exist.", id))
			return
		}
		m.steps++
		m.event(n.ID, EventEntered)
		next, stop := m.exec(n)
		if stop {
			return
		}
		id = next
	}
	m.end()
}

// exec executes one node and returns the next one, or stop when the
// session waits or has ended.
func (m *machine) exec(n flow.Node) (next string, stop bool) {
	switch b := n.Body.(type) {
	case *flow.MessageNode:
		return m.message1(n, b)
	case *flow.QuestionNode:
		m.st.Attempts = 0
		m.ask(n, b, b.Text)
		return "", true
	case *flow.ConditionNode:
		m.event(n.ID, EventCompleted)
		for _, br := range b.Branches {
			if m.branch(br) {
				return br.Next, false
			}
		}
		return b.Else, false
	case *flow.ActionNode:
		for _, a := range b.Actions {
			m.act(n.ID, a)
		}
		m.event(n.ID, EventCompleted)
		return b.Next, false
	case *flow.DelayNode:
		d, err := b.Duration.Value()
		if err != nil || d <= 0 {
			m.event(n.ID, EventCompleted)
			return b.Next, false
		}
		m.wait(n.ID, StatusWaiting, Wait{Kind: WaitDelay, Node: n.ID, Until: m.env.Now.Add(d), CancelOnReply: b.CancelOnReply, Duration: d})
		return "", true
	case *flow.HTTPNode:
		m.wait(n.ID, StatusWaiting, Wait{Kind: WaitHTTP, Node: n.ID})
		return "", true
	case *flow.HandoffNode:
		m.handoff(n.ID, b.Team)
		return "", true
	case *flow.AIAnswerNode:
		// Until the AI agent exists, the node hands over as its
		// documentation says.
		m.handoff(n.ID, b.Team)
		return "", true
	case *flow.GotoFlowNode:
		m.event(n.ID, EventCompleted)
		m.out.Goto, m.out.GotoNode = b.Flow, n.ID
		m.end()
		return "", true
	case *flow.RandomizerNode:
		total := 0
		for _, br := range b.Branches {
			total += max(br.Weight, 0)
		}
		if total == 0 {
			m.fail(n.ID, true, fmt.Sprintf("Node “%s” has no branch with a positive weight.", n.ID))
			return "", true
		}
		r := 0
		if m.env.Rand != nil {
			r = m.env.Rand(total)
		}
		m.event(n.ID, EventCompleted)
		for _, br := range b.Branches {
			w := max(br.Weight, 0)
			if r < w {
				return br.Next, false
			}
			r -= w
		}
		return "", false
	case *flow.EndNode:
		m.event(n.ID, EventCompleted)
		return "", false
	}
	m.fail(n.ID, true, fmt.Sprintf("Node “%s” has a type this version of Parley cannot run.", n.ID))
	return "", true
}

// message1 sends a message node's message and leads on: to Next, else to
// a wait for a tap when the message's quick replies or buttons lead
// somewhere, else to the end.
func (m *machine) message1(n flow.Node, b *flow.MessageNode) (string, bool) {
	m.reply(n.ID, m.content(n.ID, b))
	m.event(n.ID, EventCompleted)
	if b.Next != "" {
		return b.Next, false
	}
	if leadsOn(b) {
		m.wait(n.ID, StatusAwaiting, Wait{Kind: WaitTap, Node: n.ID})
		return "", true
	}
	return "", false
}

// leadsOn reports whether a tap on one of the message's quick replies or
// buttons leads somewhere.
func leadsOn(b *flow.MessageNode) bool {
	for _, q := range b.QuickReplies {
		if q.Next != "" {
			return true
		}
	}
	for _, bt := range b.Buttons {
		if bt.Next != "" {
			return true
		}
	}
	for _, c := range b.Cards {
		for _, bt := range c.Buttons {
			if bt.Next != "" {
				return true
			}
		}
	}
	return false
}

// ask sends a question (text, or its retry) with its choices as quick
// replies and waits for the answer.
func (m *machine) ask(n flow.Node, q *flow.QuestionNode, text string) {
	m.reply(n.ID, m.question(n.ID, q, text))
	w := Wait{Kind: WaitAnswer, Node: n.ID}
	if d, err := q.Timeout.Value(); err == nil && d > 0 {
		w.Until = m.env.Now.Add(d)
		w.Duration = d
	}
	m.wait(n.ID, StatusAwaiting, w)
}

// answer applies a reply to the question the session waits at.
func (m *machine) answer(n flow.Node, q *flow.QuestionNode, text, payload string) {
	if a, ok := q.Check(text, payload); ok {
		if q.Var != "" {
			m.setVar(q.Var, a.Value)
		}
		if q.Field != "" {
			m.act(n.ID, flow.Action{Type: flow.ActionSetField, Field: q.Field, Value: a.Value})
		}
		m.event(n.ID, EventCompleted)
		m.st.Attempts = 0
		m.run(a.Next)
		return
	}
	m.out.Invalid = true
	m.st.Attempts++
	limit := q.MaxAttempts
	if limit <= 0 {
		limit = flow.DefaultMaxAttempts
	}
	if m.st.Attempts >= limit {
		m.event(n.ID, EventDropped)
		m.st.Attempts = 0
		m.run(q.InvalidNext)
		return
	}
	retry := q.Retry
	if retry == "" {
		retry = q.Text
	}
	m.ask(n, q, retry)
}

// message applies something the contact sent to the session, when the
// session waits for it.
func (m *machine) message(in Input) {
	if !m.p.owns(m.st) || !m.st.Active() {
		return
	}
	n, ok := m.p.node(m.st.Node)
	if !ok {
		return
	}
	switch b := n.Body.(type) {
	case *flow.QuestionNode:
		if m.st.Status != StatusAwaiting {
			return
		}
		m.out.Consumed = true
		m.answer(n, b, in.Text, in.Payload)
	case *flow.MessageNode:
		// A tap on an author's own payload, or the title typed out,
		// counts as the tap.
		if next, ok := typedTap(b, in); ok {
			m.out.Consumed = true
			m.run(next)
		}
	case *flow.DelayNode:
		if b.CancelOnReply {
			m.event(n.ID, EventDropped)
			m.end()
		}
	}
}

// typedTap finds the quick reply or postback button of b that in picks:
// by the author's payload, else by its title typed in any case.
func typedTap(b *flow.MessageNode, in Input) (string, bool) {
	type option struct{ title, payload, next string }
	var opts []option
	for _, q := range b.QuickReplies {
		opts = append(opts, option{q.Title, q.Payload, q.Next})
	}
	for _, bt := range b.Buttons {
		if bt.Type == flow.ButtonPostback {
			opts = append(opts, option{bt.Title, bt.Payload, bt.Next})
		}
	}
	for _, c := range b.Cards {
		for _, bt := range c.Buttons {
			if bt.Type == flow.ButtonPostback {
				opts = append(opts, option{bt.Title, bt.Payload, bt.Next})
			}
		}
	}
	if in.Payload != "" {
		for _, o := range opts {
			if o.payload == in.Payload && o.next != "" {
				return o.next, true
			}
		}
	}
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return "", false
	}
	for _, o := range opts {
		if strings.EqualFold(text, strings.TrimSpace(o.title)) && o.next != "" {
			return o.next, true
		}
	}
	return "", false
}

// tap continues where a tap on one of the runner's payloads leads, also
// from an old message: another node of the session's flow, or the answer
// to a question.
func (m *machine) tap(t Tap) {
	n, ok := m.p.node(t.Node)
	if !ok {
		return
	}
	own := m.p.owns(m.st)
	switch b := n.Body.(type) {
	case *flow.MessageNode:
		next := tapTarget(b, t)
		if next == "" {
			return
		}
		m.out.Consumed = true
		m.restart(own)
		m.run(next)
	case *flow.QuestionNode:
		if t.Kind != TapChoice || t.Index < 0 || t.Index >= len(b.Choices) {
			return
		}
		m.out.Consumed = true
		if !own || m.st.Status != StatusAwaiting || m.st.Node != n.ID {
			m.restart(own)
			m.st.Node, m.st.Status = n.ID, StatusAwaiting
		}
		c := b.Choices[t.Index]
		value := c.Value
		if value == "" {
			value = c.Title
		}
		m.answer(n, b, c.Title, value)
	}
}

// restart makes the session a fresh run of the program at a tap: the
// session left behind is abandoned (the caller abandons sessions of other
// programs); variables carry over within the program's own session.
func (m *machine) restart(own bool) {
	vars := map[string]string(nil)
	if own {
		m.out.Events = append(m.out.Events, m.p.Abandon(m.st)...)
		vars = m.st.Vars
	}
	m.st = State{FlowID: m.p.FlowID, Version: m.p.Version, Status: StatusRunning, Vars: vars}
}

// tapTarget is where the quick reply or button t names leads.
func tapTarget(b *flow.MessageNode, t Tap) string {
	switch t.Kind {
	case TapQuickReply:
		if t.Index >= 0 && t.Index < len(b.QuickReplies) {
			return b.QuickReplies[t.Index].Next
		}
	case TapButton:
		if t.Index >= 0 && t.Index < len(b.Buttons) {
			return b.Buttons[t.Index].Next
		}
	case TapCardButton:
		if t.Index >= 0 && t.Index < len(b.Cards) && t.Sub >= 0 && t.Sub < len(b.Cards[t.Index].Buttons) {
			return b.Cards[t.Index].Buttons[t.Sub].Next
		}
	}
	return ""
}

// waitingAt returns the node the session of this program waits at with
// status s, if it is of the type want reports.
func (m *machine) waitingAt(s Status) (flow.Node, bool) {
	if !m.p.owns(m.st) || m.st.Status != s {
		return flow.Node{}, false
	}
	return m.p.node(m.st.Node)
}

// resume ends the delay the session waits at.
func (m *machine) resume() {
	n, ok := m.waitingAt(StatusWaiting)
	if !ok {
		return
	}
	d, ok := n.Body.(*flow.DelayNode)
	if !ok {
		return
	}
	m.out.Consumed = true
	m.event(n.ID, EventCompleted)
	m.run(d.Next)
}

// timeout ends the time the question the session waits at gives.
func (m *machine) timeout() {
	n, ok := m.waitingAt(StatusAwaiting)
	if !ok {
		return
	}
	q, ok := n.Body.(*flow.QuestionNode)
	if !ok {
		return
	}
	m.out.Consumed = true
	m.event(n.ID, EventDropped)
	m.st.Attempts = 0
	m.run(q.TimeoutNext)
}

// handoff gives the conversation to people and ends the session.
func (m *machine) handoff(node, team string) {
	m.event(node, EventCompleted)
	m.out.Handoff = &Handoff{Node: node, Team: team}
	m.end()
}

// act records an action and applies it to the run's view of the contact.
func (m *machine) act(node string, a flow.Action) {
	switch a.Type {
	case flow.ActionSetField:
		a.Value = flow.Render(a.Value, m)
		m.ownFieldMap()
		m.contact.Fields[a.Field] = a.Value
	case flow.ActionClearField:
		m.ownFieldMap()
		delete(m.contact.Fields, a.Field)
	case flow.ActionAddTag:
		if !slices.ContainsFunc(m.contact.Tags, func(t string) bool { return strings.EqualFold(t, a.Tag) }) {
			m.ownTagList()
			m.contact.Tags = append(m.contact.Tags, a.Tag)
		}
	case flow.ActionRemoveTag:
		m.ownTagList()
		m.contact.Tags = slices.DeleteFunc(m.contact.Tags, func(t string) bool { return strings.EqualFold(t, a.Tag) })
	case flow.ActionNotifyTeam:
		a.Text = flow.Render(a.Text, m)
	case flow.ActionResolve:
		m.out.Resolve = true
	}
	m.out.Actions = append(m.out.Actions, Action{Node: node, Action: a})
}

func (m *machine) ownFieldMap() {
	if !m.ownFields {
		m.contact.Fields = maps.Clone(m.contact.Fields)
		if m.contact.Fields == nil {
			m.contact.Fields = map[string]string{}
		}
		m.ownFields = true
	}
}

func (m *machine) ownTagList() {
	if !m.ownTags {
		m.contact.Tags = slices.Clone(m.contact.Tags)
		m.ownTags = true
	}
}

// setVar sets a flow variable.
func (m *machine) setVar(name, value string) {
	if !m.ownVars {
		m.st.Vars = maps.Clone(m.st.Vars)
		if m.st.Vars == nil {
			m.st.Vars = map[string]string{}
		}
		m.ownVars = true
	}
	m.st.Vars[name] = value
}

// wait makes the session wait at node.
func (m *machine) wait(node string, s Status, w Wait) {
	m.st.Node, m.st.Status = node, s
	m.out.Wait = &w
}

// end ends the session.
func (m *machine) end() {
	m.st = State{FlowID: m.p.FlowID, Version: m.p.Version, Status: StatusEnded}
	m.out.Wait = nil
}

// fail ends the session with an error for the author about node; the
// node counts as dropped when it was entered (never when the step bound
// stopped the run before it).
func (m *machine) fail(node string, entered bool, msg string) {
	if entered {
		m.event(node, EventDropped)
	}
	m.out.Problems = append(m.out.Problems, Problem{Node: node, Message: msg, Fatal: true})
	m.end()
}

func (m *machine) event(node string, k EventKind) {
	m.out.Events = append(m.out.Events, Event{Node: node, Kind: k})
}

func (m *machine) reply(node string, c channel.Content) {
	m.out.Replies = append(m.out.Replies, Reply{Node: node, Content: c})
}
