package flow

import (
	"encoding/json"
	"strconv"
)

// MessageNode sends one message and goes on to Next. Tapping one of its
// quick replies or postback buttons leads to that reply's or button's Next.
// The channel layer adapts the message to each platform's limits.
type MessageNode struct {
	// Text may hold variables ({{contact.first_name|there}}).
	Text         string       `json:"text,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	// Buttons make a button template with Text.
	Buttons []Button `json:"buttons,omitempty"`
	// Cards make a carousel (one card: a single card).
	Cards      []Card      `json:"cards,omitempty"`
	Attachment *Attachment `json:"attachment,omitempty"`
	// Next runs right after the message is sent; empty ends the flow (or
	// waits for a tap, when quick replies or buttons lead somewhere).
	Next string `json:"next,omitempty"`
}

// QuickReply is a chip under a message.
type QuickReply struct {
	Title string `json:"title"`
	// Payload is what the platform sends back when the chip is tapped;
	// empty lets the runner choose one.
	Payload string `json:"payload,omitempty"`
	// Next is the node a tap leads to.
	Next string `json:"next,omitempty"`
}

// Button types of the format.
const (
	ButtonPostback = "postback"
	ButtonURL      = "url"
)

// Button is a postback button (Payload, Next) or a link (URL).
type Button struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	// URL is opened by a link button; it may hold variables in its path
	// and query, never in its host.
	URL  string `json:"url,omitempty"`
	Next string `json:"next,omitempty"`
}

// Card is one element of a carousel.
type Card struct {
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	ImageURL string   `json:"image_url,omitempty"`
	URL      string   `json:"url,omitempty"`
	Buttons  []Button `json:"buttons,omitempty"`
}

// Attachment types of the format.
const (
	AttachImage = "image"
	AttachVideo = "video"
	AttachAudio = "audio"
	AttachFile  = "file"
)

// Attachment is media sent by URL.
type Attachment struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Type implements Body.
func (*MessageNode) Type() NodeType { return NodeMessage }
func (*MessageNode) isBody()        {}

// Edges implements Body.
func (m *MessageNode) Edges() []Edge {
	es := []Edge{{Field: "next", To: m.Next}}
	for i, q := range m.QuickReplies {
		es = append(es, Edge{Field: index("quick_replies", i) + ".next", To: q.Next, Waits: true})
	}
	for i, b := range m.Buttons {
		es = append(es, Edge{Field: index("buttons", i) + ".next", To: b.Next, Waits: true})
	}
	for i, c := range m.Cards {
		for j, b := range c.Buttons {
			es = append(es, Edge{Field: index("cards", i) + "." + index("buttons", j) + ".next", To: b.Next, Waits: true})
		}
	}
	return edges(es...)
}

// AnswerType says what a question accepts.
type AnswerType string

// Answer types.
const (
	AnswerText   AnswerType = "text"
	AnswerEmail  AnswerType = "email"
	AnswerPhone  AnswerType = "phone"
	AnswerNumber AnswerType = "number"
	AnswerDate   AnswerType = "date"
	AnswerChoice AnswerType = "choice"
)

// Date orders for AnswerDate: how 03/04/2026 is read.
const (
	DateDMY = "dmy"
	DateMDY = "mdy"
)

// QuestionNode asks, waits for the answer and checks it (see Check). A
// valid answer is saved (to a custom field, a flow variable or both) and
// leads to Next; after MaxAttempts invalid answers the flow goes to
// InvalidNext; with no answer within Timeout it goes to TimeoutNext. An
// empty target ends the flow.
type QuestionNode struct {
	Text   string     `json:"text"`
	Answer AnswerType `json:"answer"`
	// Choices are offered as quick replies; required for AnswerChoice
	// and used only by it.
	Choices []Choice `json:"choices,omitempty"`
	// Region is the ISO 3166 country (like "KH") assumed for phone
	// numbers written without an international prefix. Empty: the number
	// must start with + and its country code.
	Region string `json:"region,omitempty"`
	// DateOrder is DateDMY (the default) or DateMDY.
	DateOrder string `json:"date_order,omitempty"`
	// Min and Max bound AnswerNumber answers, inclusive.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Retry is sent after an invalid answer; empty repeats Text.
	Retry string `json:"retry,omitempty"`
	// MaxAttempts counts answers, the first included; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// Field is the custom field key the answer is saved to.
	Field string `json:"field,omitempty"`
	// Var is the flow variable the answer is saved to ({{flow.var.name}}).
	Var         string   `json:"var,omitempty"`
	Timeout     Duration `json:"timeout,omitempty"`
	Next        string   `json:"next,omitempty"`
	InvalidNext string   `json:"invalid_next,omitempty"`
	TimeoutNext string   `json:"timeout_next,omitempty"`
}

// Choice is one allowed answer of a choice question.
type Choice struct {
	Title string `json:"title"`
	// Value is what is saved; empty saves Title.
	Value string `json:"value,omitempty"`
	// Next overrides the question's Next for this choice.
	Next string `json:"next,omitempty"`
}

// value is what choosing c saves.
func (c Choice) value() string {
	if c.Value != "" {
		return c.Value
	}
	return c.Title
}

// Type implements Body.
func (*QuestionNode) Type() NodeType { return NodeQuestion }
func (*QuestionNode) isBody()        {}

// Edges implements Body. Every edge of a question waits for an answer or
// its timeout.
func (q *QuestionNode) Edges() []Edge {
	es := []Edge{
		{Field: "next", To: q.Next, Waits: true},
		{Field: "invalid_next", To: q.InvalidNext, Waits: true},
		{Field: "timeout_next", To: q.TimeoutNext, Waits: true},
	}
	for i, c := range q.Choices {
		es = append(es, Edge{Field: index("choices", i) + ".next", To: c.Next, Waits: true})
	}
	return edges(es...)
}

// ConditionNode goes to the Next of the first branch whose rules hold,
// else to Else (empty: the flow ends).
type ConditionNode struct {
	Branches []Branch `json:"branches"`
	Else     string   `json:"else,omitempty"`
}

// Match modes of a branch.
const (
	MatchAll = "all"
	MatchAny = "any"
)

// Branch is one way out of a condition.
type Branch struct {
	// Match is MatchAll (the default) or MatchAny.
	Match string `json:"match,omitempty"`
	Rules []Rule `json:"rules"`
	Next  string `json:"next,omitempty"`
}

// Rule subjects: what a rule looks at.
const (
	SubjectTag           = "tag"            // Key: a tag name; Op: exists, not_exists
	SubjectField         = "field"          // Key: a custom field key; any Op
	SubjectChannel       = "channel"        // Op: eq, neq; Value: a channel type
	SubjectContact       = "contact"        // Key: a contact attribute; any Op
	SubjectBusinessHours = "business_hours" // Op: open, closed; Hours
)

// Rule operators.
const (
	OpEq        = "eq"
	OpNeq       = "neq"
	OpContains  = "contains"
	OpGt        = "gt"
	OpLt        = "lt"
	OpExists    = "exists"
	OpNotExists = "not_exists"
	OpOpen      = "open"   // business hours only: now is within them
	OpClosed    = "closed" // business hours only: now is outside them
)

// Contact attributes a contact rule may read.
const (
	ContactFirstName = "first_name"
	ContactLastName  = "last_name"
	ContactLocale    = "locale"
)

// Rule is one test of a branch. Which members apply depends on Subject;
// Validate refuses the others.
type Rule struct {
	Subject string         `json:"subject"`
	Key     string         `json:"key,omitempty"`
	Op      string         `json:"op"`
	Value   string         `json:"value,omitempty"`
	Hours   *BusinessHours `json:"hours,omitempty"`
}

// ruleKeys lists the members each rule subject takes besides "subject".
func ruleKeys(subject string) ([]string, bool) {
	switch subject {
	case SubjectTag:
		return []string{"key", "op"}, true
	case SubjectField, SubjectContact:
		return []string{"key", "op", "value"}, true
	case SubjectChannel:
		return []string{"op", "value"}, true
	case SubjectBusinessHours:
		return []string{"op", "hours"}, true
	}
	return nil, false
}

// discriminator implements discriminated.
func (Rule) discriminator() string { return "subject" }

// variantKeys implements discriminated.
func (Rule) variantKeys(v string) ([]string, bool) { return ruleKeys(v) }

// Type implements Body.
func (*ConditionNode) Type() NodeType { return NodeCondition }
func (*ConditionNode) isBody()        {}

// Edges implements Body.
func (c *ConditionNode) Edges() []Edge {
	var es []Edge
	for i, b := range c.Branches {
		es = append(es, Edge{Field: index("branches", i) + ".next", To: b.Next})
	}
	return edges(append(es, Edge{Field: "else", To: c.Else})...)
}

// ActionNode performs its actions in order and goes on to Next.
type ActionNode struct {
	Actions []Action `json:"actions"`
	Next    string   `json:"next,omitempty"`
}

// Action types.
const (
	ActionAddTag      = "add_tag"     // Tag (created if new)
	ActionRemoveTag   = "remove_tag"  // Tag
	ActionSetField    = "set_field"   // Field, Value (may hold variables)
	ActionClearField  = "clear_field" // Field
	ActionSetStage    = "set_stage"   // Stage (a lead stage)
	ActionSubscribe   = "subscribe"   // Topic (optional: all broadcasts)
	ActionUnsubscribe = "unsubscribe" // Topic (optional: all broadcasts)
	ActionNotifyTeam  = "notify_team" // Team (optional), Text
	ActionResolve     = "resolve"     // marks the conversation resolved
)

// actionKeys lists the members each action type takes besides "type".
func actionKeys(typ string) ([]string, bool) {
	switch typ {
	case ActionAddTag, ActionRemoveTag:
		return []string{"tag"}, true
	case ActionSetField:
		return []string{"field", "value"}, true
	case ActionClearField:
		return []string{"field"}, true
	case ActionSetStage:
		return []string{"stage"}, true
	case ActionSubscribe, ActionUnsubscribe:
		return []string{"topic"}, true
	case ActionNotifyTeam:
		return []string{"team", "text"}, true
	case ActionResolve:
		return nil, true
	}
	return nil, false
}

// ActionTypes lists every action type.
func ActionTypes() []string {
	return []string{ActionAddTag, ActionRemoveTag, ActionSetField, ActionClearField, ActionSetStage,
		ActionSubscribe, ActionUnsubscribe, ActionNotifyTeam, ActionResolve}
}

// Action is one change an action node makes. Which members apply depends on
// Type; Parse refuses the others.
type Action struct {
	Type  string `json:"type"`
	Tag   string `json:"tag,omitempty"`
	Field string `json:"field,omitempty"`
	Value string `json:"value,omitempty"`
	Stage string `json:"stage,omitempty"`
	Topic string `json:"topic,omitempty"`
	Team  string `json:"team,omitempty"`
	Text  string `json:"text,omitempty"`
}

// discriminator implements discriminated.
func (Action) discriminator() string { return "type" }

// variantKeys implements discriminated.
func (Action) variantKeys(v string) ([]string, bool) { return actionKeys(v) }

// Type implements Body.
func (*ActionNode) Type() NodeType { return NodeAction }
func (*ActionNode) isBody()        {}

// Edges implements Body.
func (a *ActionNode) Edges() []Edge { return edges(Edge{Field: "next", To: a.Next}) }

// DelayNode waits Duration (durably: the wait survives restarts) and goes
// on to Next. With CancelOnReply, a message from the contact during the
// wait ends the flow instead, and the message is handled as if no flow
// were running.
type DelayNode struct {
	Duration      Duration `json:"duration"`
	CancelOnReply bool     `json:"cancel_on_reply,omitempty"`
	Next          string   `json:"next,omitempty"`
}

// Type implements Body.
func (*DelayNode) Type() NodeType { return NodeDelay }
func (*DelayNode) isBody()        {}

// Edges implements Body.
func (d *DelayNode) Edges() []Edge { return edges(Edge{Field: "next", To: d.Next, Waits: true}) }

// HTTPNode calls an external system through the guarded outbound client.
// A 2xx answer within Timeout maps response fields and goes to Next; any
// other outcome goes to FailureNext.
type HTTPNode struct {
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string `json:"method"`
	// URL is absolute http or https; variables may appear in its path and
	// query, never in its scheme or host.
	URL     string   `json:"url"`
	Headers []Header `json:"headers,omitempty"`
	// Body is a JSON value whose strings may hold variables; it is sent
	// with Content-Type application/json. Parse stores it compact, with
	// <, > and & escaped, so that it survives any JSON encoder unchanged.
	Body json.RawMessage `json:"body,omitempty"`
	// Timeout is at most MaxHTTPTimeout; empty means DefaultHTTPTimeout.
	Timeout     Duration  `json:"timeout,omitempty"`
	Map         []Mapping `json:"map,omitempty"`
	Next        string    `json:"next,omitempty"`
	FailureNext string    `json:"failure_next,omitempty"`
}

// Header is one request header. The storage layer seals the value of a
// Secret header and Export leaves it out.
type Header struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"`
}

// Mapping copies one value of a JSON response to a custom field, a flow
// variable or both.
type Mapping struct {
	// Path is a dotted path into the response: "data.items.0.name"
	// (numbers index arrays).
	Path  string `json:"path"`
	Field string `json:"field,omitempty"`
	Var   string `json:"var,omitempty"`
}

// Type implements Body.
func (*HTTPNode) Type() NodeType { return NodeHTTP }
func (*HTTPNode) isBody()        {}

// Edges implements Body.
func (h *HTTPNode) Edges() []Edge {
	return edges(Edge{Field: "next", To: h.Next}, Edge{Field: "failure_next", To: h.FailureNext})
}

// HandoffNode gives the conversation to people (to Team, if set) and ends
// the flow; automation stays paused while a person owns the conversation.
type HandoffNode struct {
	Team string `json:"team,omitempty"`
}

// Type implements Body.
func (*HandoffNode) Type() NodeType { return NodeHandoff }
func (*HandoffNode) isBody()        {}

// Edges implements Body.
func (*HandoffNode) Edges() []Edge { return nil }

// GotoFlowNode ends this flow and starts another at its start node.
type GotoFlowNode struct {
	Flow string `json:"flow"`
}

// Type implements Body.
func (*GotoFlowNode) Type() NodeType { return NodeGotoFlow }
func (*GotoFlowNode) isBody()        {}

// Edges implements Body.
func (*GotoFlowNode) Edges() []Edge { return nil }

// RandomizerNode picks one branch at random, in proportion to the weights
// (an A/B split).
type RandomizerNode struct {
	Branches []WeightedBranch `json:"branches"`
}

// WeightedBranch is one way out of a randomizer.
type WeightedBranch struct {
	// Weight is a positive share: 1 and 3 split 25 % / 75 %.
	Weight int    `json:"weight"`
	Next   string `json:"next,omitempty"`
}

// Type implements Body.
func (*RandomizerNode) Type() NodeType { return NodeRandomizer }
func (*RandomizerNode) isBody()        {}

// Edges implements Body.
func (r *RandomizerNode) Edges() []Edge {
	var es []Edge
	for i, b := range r.Branches {
		es = append(es, Edge{Field: index("branches", i) + ".next", To: b.Next})
	}
	return edges(es...)
}

// EndNode ends the flow. A node with no next ends it too; an end node says
// so on the canvas.
type EndNode struct{}

// Type implements Body.
func (*EndNode) Type() NodeType { return NodeEnd }
func (*EndNode) isBody()        {}

// Edges implements Body.
func (*EndNode) Edges() []Edge { return nil }

// AIAnswerNode will let the AI agent answer. Until the agent exists it
// behaves as a handoff to Team.
type AIAnswerNode struct {
	Team string `json:"team,omitempty"`
}

// Type implements Body.
func (*AIAnswerNode) Type() NodeType { return NodeAIAnswer }
func (*AIAnswerNode) isBody()        {}

// Edges implements Body.
func (*AIAnswerNode) Edges() []Edge { return nil }

// newBody returns an empty body of node type t.
func newBody(t NodeType) (Body, bool) {
	switch t {
	case NodeMessage:
		return &MessageNode{}, true
	case NodeQuestion:
		return &QuestionNode{}, true
	case NodeCondition:
		return &ConditionNode{}, true
	case NodeAction:
		return &ActionNode{}, true
	case NodeDelay:
		return &DelayNode{}, true
	case NodeHTTP:
		return &HTTPNode{}, true
	case NodeHandoff:
		return &HandoffNode{}, true
	case NodeGotoFlow:
		return &GotoFlowNode{}, true
	case NodeRandomizer:
		return &RandomizerNode{}, true
	case NodeEnd:
		return &EndNode{}, true
	case NodeAIAnswer:
		return &AIAnswerNode{}, true
	}
	return nil, false
}

// index formats a list element's path: name[i].
func index(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
