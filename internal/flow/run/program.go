package run

import (
	"strings"

	"github.com/parleyhq/parley/internal/flow"
)

// Program is one flow version made ready to run: its nodes indexed by ID
// and what it reads of a contact. It is immutable, so one Program serves
// every session of that version at once.
type Program struct {
	// FlowID and Version identify what runs (Version 0: a draft, in
	// simulation).
	FlowID  string
	Version int
	// Doc must not be changed once compiled.
	Doc   flow.Document
	index map[string]int
	// Needs says what of the contact the program reads, so the runner
	// loads only that.
	Needs Needs
}

// Needs is what of a contact a program reads besides its locale and
// channel, which are always at hand.
type Needs struct {
	// Names: {{contact.first_name}} and friends, or a condition on them.
	Names bool
	// Tags: a condition on tags.
	Tags bool
	// Fields: {{contact.field.…}} or a condition on custom fields.
	Fields bool
}

// Compile prepares doc, the document of version of flowID, to run.
func Compile(flowID string, version int, doc flow.Document) *Program {
	p := &Program{FlowID: flowID, Version: version, Doc: doc, index: make(map[string]int, len(doc.Nodes))}
	for i, n := range doc.Nodes {
		if _, dup := p.index[n.ID]; !dup {
			p.index[n.ID] = i
		}
	}
	p.Needs = needsOf(doc)
	return p
}

// node returns the node with the given ID.
func (p *Program) node(id string) (flow.Node, bool) {
	i, ok := p.index[id]
	if !ok {
		return flow.Node{}, false
	}
	n := p.Doc.Nodes[i]
	if n.Type() == "" {
		return flow.Node{}, false
	}
	return n, true
}

// owns reports whether the session st runs this program.
func (p *Program) owns(st State) bool { return st.FlowID == p.FlowID && st.Version == p.Version }

// needsOf finds what of a contact doc reads: the variables anywhere in
// its JSON (texts, URLs, headers, bodies, values) and the subjects of its
// conditions.
func needsOf(doc flow.Document) Needs {
	var n Needs
	if raw, err := doc.MarshalJSON(); err == nil {
		for _, v := range flow.Variables(string(raw)) {
			switch {
			case v == flow.VarFirstName || v == flow.VarLastName || v == flow.VarFullName:
				n.Names = true
			case strings.HasPrefix(v, flow.VarFieldPrefix):
				n.Fields = true
			}
		}
	}
	for _, node := range doc.Nodes {
		c, ok := node.Body.(*flow.ConditionNode)
		if !ok || c == nil {
			continue
		}
		for _, b := range c.Branches {
			for _, r := range b.Rules {
				switch r.Subject {
				case flow.SubjectTag:
					n.Tags = true
				case flow.SubjectField:
					n.Fields = true
				case flow.SubjectContact:
					if r.Key != flow.ContactLocale {
						n.Names = true
					}
				}
			}
		}
	}
	return n
}

// Abandon returns the events of leaving the session st of this program
// before it finished: dropped for a question, delay or request waited on
// (a tap waited on is not dropped: the message was delivered).
func (p *Program) Abandon(st State) []Event {
	if !p.owns(st) || !st.Active() {
		return nil
	}
	n, ok := p.node(st.Node)
	if !ok {
		return nil
	}
	switch n.Body.(type) {
	case *flow.QuestionNode, *flow.DelayNode, *flow.HTTPNode:
		return []Event{{Node: n.ID, Kind: EventDropped}}
	}
	return nil
}

// Step runs the session st on in, without any I/O: it executes nodes
// until the session must wait or ends and says what to send, change and
// wait for. st must be a session of p (or any State for InputStart).
func (p *Program) Step(st State, in Input, env Env) Output {
	m := &machine{p: p, env: &env, st: st, contact: env.Contact, max: env.MaxSteps}
	if m.max == 0 {
		m.max = DefaultMaxSteps
	}
	switch in.Kind {
	case InputStart:
		m.st = State{FlowID: p.FlowID, Version: p.Version, Status: StatusRunning}
		m.out.Consumed = true
		m.run(p.Doc.Start)
	case InputMessage:
		m.message(in)
	case InputTap:
		m.tap(in.Tap)
	case InputResume:
		m.resume()
	case InputTimeout:
		m.timeout()
	case InputHTTP:
		m.httpResult(in.HTTP)
	}
	m.out.State = m.st
	m.out.Steps = m.steps
	return m.out
}
