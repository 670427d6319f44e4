package flow

import (
	"reflect"
	"time"
)

// FormatVersion is the version of the document format this package reads
// and writes. Parse refuses documents of a later version (ErrFormat); any
// earlier version it still accepts is upgraded to this one on reading.
const FormatVersion = 1

// Limits on a document. They bound what one author can make the platform
// store, parse and walk; Parse refuses a document that breaks them.
const (
	// MaxDocumentBytes is the largest document Parse reads.
	MaxDocumentBytes = 1 << 20
	// MaxNodes is the most nodes a flow may have.
	MaxNodes = 500
	// MaxTriggers is the most triggers a flow may have.
	MaxTriggers = 100
	// MaxTextLen is the longest any text of a document may be, in
	// characters (Unicode code points): Messenger's limit for one message.
	MaxTextLen = 2000
	// MaxIDLen is the longest node, trigger or flow ID.
	MaxIDLen = 64
	// MaxBodyBytes is the largest JSON body of an http node.
	MaxBodyBytes = 16 << 10
	// MaxHTTPTimeout is the longest an http node may wait for an answer.
	MaxHTTPTimeout = 30 * time.Second
	// DefaultHTTPTimeout applies when an http node sets no timeout.
	DefaultHTTPTimeout = 10 * time.Second
	// DefaultMaxAttempts is how many answers a question accepts before it
	// gives up, when it does not say.
	DefaultMaxAttempts = 3
)

// Document is one flow: what starts it, where it starts and its nodes. It
// is always in the current format (FormatVersion); MarshalJSON writes the
// version.
type Document struct {
	// Name is the author's name for the flow.
	Name string
	// Triggers start the flow; a flow with none runs only when another
	// flow jumps to it (goto_flow).
	Triggers []Trigger
	// Start is the ID of the first node.
	Start string
	// Nodes are the steps, in the author's order (which the editor and
	// problem lists keep).
	Nodes []Node
}

// Find returns the first node with the given ID.
func (d Document) Find(id string) (Node, bool) {
	for _, n := range d.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// NodeType names a kind of node; it is the "type" of a node in JSON.
type NodeType string

// Node types. Their IDs are part of the format: never rename one.
const (
	NodeMessage    NodeType = "message"
	NodeQuestion   NodeType = "question"
	NodeCondition  NodeType = "condition"
	NodeAction     NodeType = "action"
	NodeDelay      NodeType = "delay"
	NodeHTTP       NodeType = "http"
	NodeHandoff    NodeType = "handoff"
	NodeGotoFlow   NodeType = "goto_flow"
	NodeRandomizer NodeType = "randomizer"
	NodeEnd        NodeType = "end"
	NodeAIAnswer   NodeType = "ai_answer"
)

// NodeTypes lists every node type, in the order the documentation uses.
func NodeTypes() []NodeType {
	return []NodeType{NodeMessage, NodeQuestion, NodeCondition, NodeAction, NodeDelay,
		NodeHTTP, NodeHandoff, NodeGotoFlow, NodeRandomizer, NodeEnd, NodeAIAnswer}
}

// Node is one step of a flow. In JSON its common fields and the fields of
// its Body sit side by side in one object:
//
//	{"id": "n1", "type": "message", "text": "Hi!", "next": "n2"}
type Node struct {
	// ID is stable across edits and versions: edges, sessions and
	// statistics refer to it. It matches [A-Za-z0-9_-]{1,64}.
	ID string
	// Name is an optional label for people ("Ask e-mail"); problems name
	// the node by it.
	Name string
	// Position is where the visual editor draws the node, if it has.
	Position *Position
	// Body is what the node does; its concrete type (*MessageNode,
	// *QuestionNode, …) gives the node's type.
	Body Body
}

// Type is the node's type, or "" when it has no body.
func (n Node) Type() NodeType {
	if !n.hasBody() {
		return ""
	}
	return n.Body.Type()
}

// hasBody reports whether the node has a body, and not a nil pointer of
// a body type.
func (n Node) hasBody() bool {
	return n.Body != nil && !reflect.ValueOf(n.Body).IsNil()
}

// label names the node for people: its name, else its ID.
func (n Node) label() string {
	if n.Name != "" {
		return "“" + n.Name + "”"
	}
	return "“" + n.ID + "”"
}

// Position is a point on the editor's canvas.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Body is the type-specific part of a node. The node types of this
// package are its only implementations.
type Body interface {
	// Type is the node type the body belongs to.
	Type() NodeType
	// Edges lists the node's outgoing edges that are set.
	Edges() []Edge
	isBody()
}

// Edge is a link from a node to the node that runs after it.
type Edge struct {
	// Field is the JSON path of the link inside the node, for example
	// "next" or "quick_replies[1].next".
	Field string
	// To is the ID of the target node.
	To string
	// Waits reports whether the edge is taken only after the contact
	// answers or time passes (a question, a delay, a tapped button), as
	// opposed to straight away. A loop made only of edges that do not wait
	// would spin forever, so Validate refuses it.
	Waits bool
}

// edges collects the set links among candidates.
func edges(es ...Edge) []Edge {
	out := es[:0]
	for _, e := range es {
		if e.To != "" {
			out = append(out, e)
		}
	}
	return out
}
