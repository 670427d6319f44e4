package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/flow"
)

// Limits of a simulation: it runs inside an API request.
const (
	// MaxSimInputs is the most inputs one simulation replays.
	MaxSimInputs = 100
	// maxSimRounds bounds the steps one simulation takes in all (a delay
	// or a request is one round each).
	maxSimRounds = 500
	// maxSimCalls bounds the HTTP requests one simulation makes, and
	// maxSimTime how long it may take in all: a preview must not become
	// a way to send hundreds of requests from Parley's address.
	maxSimCalls = 10
	maxSimTime  = time.Minute
	// maxGotos bounds the goto_flow jumps one run makes, so that two flows
	// jumping to each other stop.
	maxGotos = 8
)

// ErrSimInput wraps what is wrong with a simulation request.
var ErrSimInput = errors.New("run: invalid simulation")

// SimRequest is a simulation: a virtual contact and what they send, in
// order, after the flow starts. It holds everything the simulation needs,
// so the preview is stateless: the editor sends the whole list again with
// each new message.
type SimRequest struct {
	Contact SimContact `json:"contact"`
	Inputs  []SimInput `json:"inputs"`
}

// SimContact is the virtual contact of a simulation.
type SimContact struct {
	FirstName string            `json:"first_name,omitempty"`
	LastName  string            `json:"last_name,omitempty"`
	Locale    string            `json:"locale,omitempty"`
	Channel   string            `json:"channel,omitempty"`
	Tags      []string          `json:"tags,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
}

// SimInput is one thing the virtual contact sends: a text, or the
// payload of a quick reply or button they tapped (as the transcript gave
// it).
type SimInput struct {
	Text    string `json:"text,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// SimResult is what a simulation did.
type SimResult struct {
	Transcript []SimEntry  `json:"transcript"`
	Actions    []SimAction `json:"actions"`
	State      SimState    `json:"state"`
	// Problems are what went wrong, as the runner would record them.
	Problems []Problem `json:"problems"`
	// Error is the problem that ended the flow, if one did.
	Error string `json:"error,omitempty"`
}

// Transcript senders.
const (
	FromBot     = "bot"
	FromContact = "contact"
	// FromNote is the simulator's own remark ("waits 1h").
	FromNote = "note"
)

// SimEntry is one line of the transcript.
type SimEntry struct {
	From    string           `json:"from"`
	Content *channel.Content `json:"content,omitempty"`
	Note    string           `json:"note,omitempty"`
	NodeID  string           `json:"node_id,omitempty"`
	FlowID  string           `json:"flow_id,omitempty"`
}

// SimAction is an action the flow took.
type SimAction struct {
	Type   string `json:"type"`
	Detail string `json:"detail,omitempty"`
	NodeID string `json:"node_id,omitempty"`
}

// SimState is the session once the inputs are spent.
type SimState struct {
	FlowID string `json:"flow_id,omitempty"`
	NodeID string `json:"node_id,omitempty"`
	Status Status `json:"status"`
	// Awaiting is what the flow waits for: "answer", "tap" or "".
	Awaiting string            `json:"awaiting,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
}

// SimOptions are what a simulation may use besides the document.
type SimOptions struct {
	// FlowID is the simulated flow's ID ("" for a document of no flow).
	FlowID string
	// Caller makes http nodes' requests, through the same guard as real
	// runs (nil: requests fail).
	Caller Caller
	// Flows returns the published version of a goto_flow target (nil: the
	// simulation stops at goto_flow with a note).
	Flows func(ctx context.Context, flowID string) (doc flow.Document, version int, ok bool)
	// Now, Location, Rand and Zone are as in Env (Now zero: time.Now).
	Now      time.Time
	Location *time.Location
	Rand     func(n int) int
	Zone     func(name string) (*time.Location, error)
	// Payloads encodes the payloads of quick replies and buttons, which
	// the editor sends back as inputs.
	Payloads Payloads
}

// Simulate runs doc against a virtual contact without any channel and
// without storing anything: the flow starts at its start node, then each
// input is applied as a message from the contact. Delays are skipped with
// a note; http nodes really call, through opt.Caller (so the SSRF rules
// apply); goto_flow continues in the target's published version when
// opt.Flows finds it. The error is ErrSimInput for a request that asks too
// much.
func Simulate(ctx context.Context, doc flow.Document, req SimRequest, opt SimOptions) (SimResult, error) {
	if len(req.Inputs) > MaxSimInputs {
		return SimResult{}, fmt.Errorf("%w: at most %d inputs", ErrSimInput, MaxSimInputs)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, maxSimTime)
	defer cancel()
	s := &sim{ctx: ctx, opt: opt, res: SimResult{Transcript: []SimEntry{}, Actions: []SimAction{}, Problems: []Problem{}}}
	s.env = Env{
		Contact: Contact{FirstName: req.Contact.FirstName, LastName: req.Contact.LastName, Locale: req.Contact.Locale,
			Channel: req.Contact.Channel, Tags: slices.Clone(req.Contact.Tags), Fields: map[string]string{}},
		Now: opt.Now, Location: opt.Location, Rand: opt.Rand, Zone: opt.Zone, Payloads: opt.Payloads,
	}
	if s.env.Contact.Channel == "" {
		s.env.Contact.Channel = string(channel.Messenger)
	}
	for k, v := range req.Contact.Fields {
		s.env.Contact.Fields[k] = v
	}
	s.root = Compile(opt.FlowID, 0, doc)
	s.prog = s.root
	s.step(Input{Kind: InputStart})
	for _, in := range req.Inputs {
		if s.rounds >= maxSimRounds || ctx.Err() != nil {
			break
		}
		s.input(in)
	}
	s.res.State = SimState{FlowID: s.st.FlowID, NodeID: s.st.Node, Status: s.st.Status, Vars: s.st.Vars}
	if s.st.Status == "" {
		s.res.State.Status = StatusEnded
	}
	if s.wait != nil && (s.wait.Kind == WaitAnswer || s.wait.Kind == WaitTap) {
		s.res.State.Awaiting = string(s.wait.Kind)
	}
	return s.res, nil
}

// sim is one simulation in progress.
type sim struct {
	ctx    context.Context
	opt    SimOptions
	env    Env
	root   *Program
	prog   *Program
	st     State
	wait   *Wait
	res    SimResult
	rounds int
	calls  int // HTTP requests made
}

// input applies one input of the virtual contact.
func (s *sim) input(in SimInput) {
	entry := channel.Content{Text: in.Text, Payload: in.Payload}
	if tap, ok := s.opt.Payloads.Decode(in.Payload); ok && tap.FlowID == s.prog.FlowID {
		if entry.Text == "" {
			entry.Text = s.title(tap)
		}
		s.res.Transcript = append(s.res.Transcript, SimEntry{From: FromContact, Content: &entry})
		s.step(Input{Kind: InputTap, Tap: tap, Text: entry.Text})
		return
	}
	s.res.Transcript = append(s.res.Transcript, SimEntry{From: FromContact, Content: &entry})
	if !s.st.Active() {
		s.note("", "No flow is running any more: in a conversation, this message would go to the triggers.")
		return
	}
	if !s.step(Input{Kind: InputMessage, Text: in.Text, Payload: in.Payload}) {
		s.note(s.st.Node, "The flow does not wait for this message: in a conversation, it would go to the triggers.")
	}
}

// title is the title of what a tap tapped, for the transcript.
func (s *sim) title(t Tap) string {
	n, ok := s.prog.node(t.Node)
	if !ok {
		return ""
	}
	switch b := n.Body.(type) {
	case *flow.MessageNode:
		switch {
		case t.Kind == TapQuickReply && t.Index < len(b.QuickReplies):
			return b.QuickReplies[t.Index].Title
		case t.Kind == TapButton && t.Index < len(b.Buttons):
			return b.Buttons[t.Index].Title
		case t.Kind == TapCardButton && t.Index < len(b.Cards) && t.Sub < len(b.Cards[t.Index].Buttons):
			return b.Cards[t.Index].Buttons[t.Sub].Title
		}
	case *flow.QuestionNode:
		if t.Kind == TapChoice && t.Index < len(b.Choices) {
			return b.Choices[t.Index].Title
		}
	}
	return ""
}

// step runs the session on in and on through skipped delays, requests
// and jumps to other flows, and reports whether in was consumed.
func (s *sim) step(in Input) bool {
	consumed, gotos := false, 0
	for first := true; ; first = false {
		if s.rounds >= maxSimRounds {
			s.fail(fmt.Sprintf("The simulation stopped after %d rounds.", maxSimRounds))
			return consumed
		}
		s.rounds++
		out := s.prog.Step(s.st, in, s.env)
		if first {
			consumed = out.Consumed
		}
		s.record(out)
		s.st, s.wait = out.State, out.Wait
		switch {
		case out.Goto != "":
			gotos++
			if gotos > maxGotos {
				s.fail(fmt.Sprintf("The flow jumped to other flows more than %d times in a row and was stopped.", maxGotos))
				return consumed
			}
			if !s.jump(out.Goto) {
				return consumed
			}
			in = Input{Kind: InputStart}
		case out.Wait != nil && out.Wait.Kind == WaitDelay:
			s.note(out.Wait.Node, "Waits "+human(out.Wait.Duration)+" (skipped in the preview).")
			in = Input{Kind: InputResume}
		case out.Wait != nil && out.Wait.Kind == WaitHTTP:
			in = Input{Kind: InputHTTP, HTTP: s.call(out.Wait.Node)}
		default:
			return consumed
		}
	}
}

// jump continues in another flow's published version.
func (s *sim) jump(flowID string) bool {
	if s.opt.Flows == nil {
		s.note("", "Goes to another flow, which the preview does not run.")
		return false
	}
	doc, v, ok := s.opt.Flows(s.ctx, flowID)
	if !ok {
		s.fail("The flow goes to another flow that is not published.")
		return false
	}
	s.prog = Compile(flowID, v, doc)
	s.note("", "Continues in the flow “"+doc.Name+"”.")
	return true
}

// call makes the request of the http node the session waits at.
func (s *sim) call(node string) CallResult {
	req, err := s.prog.Request(s.st, s.env)
	if err != nil {
		s.note(node, "Cannot make the request: its address is not valid once rendered.")
		return CallResult{Err: err}
	}
	if s.opt.Caller == nil {
		s.note(node, "Would call "+req.Method+" "+origin(req.URL)+" (the preview cannot make requests here).")
		return CallResult{Err: errors.New("run: no caller")}
	}
	if s.calls >= maxSimCalls {
		s.note(node, fmt.Sprintf("Would call %s %s, but the preview makes at most %d requests.", req.Method, origin(req.URL), maxSimCalls))
		return CallResult{Err: errors.New("run: preview request limit")}
	}
	s.calls++
	ctx, cancel := context.WithTimeout(s.ctx, req.Timeout)
	defer cancel()
	res := Result(s.opt.Caller.Call(ctx, req))
	if res.Err == nil {
		s.note(node, fmt.Sprintf("Called %s %s: status %d.", req.Method, origin(req.URL), res.Status))
	}
	return res
}

// record adds what a step did to the result.
func (s *sim) record(out Output) {
	for _, r := range out.Replies {
		c := r.Content
		s.res.Transcript = append(s.res.Transcript, SimEntry{From: FromBot, Content: &c, NodeID: r.Node, FlowID: s.prog.FlowID})
	}
	for _, a := range out.Actions {
		s.res.Actions = append(s.res.Actions, SimAction{Type: a.Type, Detail: detail(a.Action), NodeID: a.Node})
		applyAction(&s.env.Contact, a.Action)
	}
	if h := out.Handoff; h != nil {
		s.res.Actions = append(s.res.Actions, SimAction{Type: "handoff", Detail: h.Team, NodeID: h.Node})
		s.note(h.Node, "Hands the conversation to your team; the flow stops here.")
	}
	if out.Goto != "" {
		s.res.Actions = append(s.res.Actions, SimAction{Type: "goto_flow", Detail: out.Goto, NodeID: out.GotoNode})
	}
	for _, p := range out.Problems {
		s.res.Problems = append(s.res.Problems, p)
		if p.Fatal {
			s.res.Error = p.Message
		}
	}
}

func (s *sim) note(node, text string) {
	s.res.Transcript = append(s.res.Transcript, SimEntry{From: FromNote, Note: text, NodeID: node})
}

func (s *sim) fail(msg string) {
	s.res.Problems = append(s.res.Problems, Problem{Message: msg, Fatal: true})
	s.res.Error = msg
	s.st = State{FlowID: s.prog.FlowID, Version: s.prog.Version, Status: StatusEnded}
	s.wait = nil
}

// applyAction changes the virtual contact as the runner changes a real
// one.
func applyAction(c *Contact, a flow.Action) {
	switch a.Type {
	case flow.ActionAddTag:
		if !slices.ContainsFunc(c.Tags, func(t string) bool { return strings.EqualFold(t, a.Tag) }) {
			c.Tags = append(c.Tags, a.Tag)
		}
	case flow.ActionRemoveTag:
		c.Tags = slices.DeleteFunc(c.Tags, func(t string) bool { return strings.EqualFold(t, a.Tag) })
	case flow.ActionSetField:
		if c.Fields == nil {
			c.Fields = map[string]string{}
		}
		c.Fields[a.Field] = a.Value
	case flow.ActionClearField:
		delete(c.Fields, a.Field)
	}
}

// detail describes an action for the preview.
func detail(a flow.Action) string {
	switch a.Type {
	case flow.ActionAddTag, flow.ActionRemoveTag:
		return a.Tag
	case flow.ActionSetField:
		return a.Field + " = " + a.Value
	case flow.ActionClearField:
		return a.Field
	case flow.ActionSetStage:
		return a.Stage
	case flow.ActionSubscribe, flow.ActionUnsubscribe:
		return a.Topic
	case flow.ActionNotifyTeam:
		if a.Team != "" {
			return a.Team + ": " + a.Text
		}
		return a.Text
	}
	return ""
}

// origin is scheme://host of an address, for notes: never the path or
// query, which may carry personal data or credentials.
func origin(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + "://" + rest
}

// human writes a duration the way the flow documents do: 2d, 1h30m, 90s
// → 1m30s.
func human(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
		}
	}
	if b.Len() == 0 {
		return d.String()
	}
	return b.String()
}
