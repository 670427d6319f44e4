package run

import (
	"time"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/flow"
)

// Status is where a session stands.
type Status string

// Session statuses (column flow_sessions.status).
const (
	// StatusRunning is a session between two nodes; it is never stored:
	// every step ends waiting or ended.
	StatusRunning Status = "running"
	// StatusAwaiting waits for the contact: the answer to a question, or
	// a tap on a message's quick replies or buttons.
	StatusAwaiting Status = "awaiting"
	// StatusWaiting waits for time or a system: a delay, an HTTP answer.
	StatusWaiting Status = "waiting"
	// StatusStarting is a flow chosen for a new contact that waits for
	// the contact's profile before it starts, because it reads their
	// name: the runner's, never the core's (see Runner.ProfileSettled).
	StatusStarting Status = "starting"
	// StatusEnded is a finished session (or none at all).
	StatusEnded Status = "ended"
)

// DefaultMaxSteps bounds the nodes one run executes without waiting for
// the contact (Env.MaxSteps): a flow that jumps forever stops there with
// an error its author sees, instead of spinning.
const DefaultMaxSteps = 64

// State is a session as the core sees it: the flow version it runs
// (pinned for the session's life), the node it waits at, and its flow
// variables.
type State struct {
	FlowID  string `json:"flow_id,omitempty"`
	Version int    `json:"version,omitempty"`
	// Node is the node the session waits at ("" once ended).
	Node   string `json:"node_id,omitempty"`
	Status Status `json:"status"`
	// Attempts counts the invalid answers given to the question waited on.
	Attempts int `json:"attempts,omitempty"`
	// Vars are the flow variables ({{flow.var.name}}). Step never changes
	// the map it is given: it copies before writing.
	Vars map[string]string `json:"vars,omitempty"`
}

// Active reports whether the session waits for something.
func (s State) Active() bool { return s.Status == StatusAwaiting || s.Status == StatusWaiting }

// InputKind is what makes a session step.
type InputKind string

// Input kinds.
const (
	// InputStart starts the program at its start node, with fresh
	// variables (the State given is ignored).
	InputStart InputKind = "start"
	// InputMessage is something the contact wrote or tapped that carries
	// no payload of the runner's: the answer to a question, a typed
	// quick-reply title, or anything else (which the session may leave
	// unconsumed: see Output.Consumed).
	InputMessage InputKind = "message"
	// InputTap is a tap on a quick reply, button or choice the runner
	// generated the payload of (Tap says which), possibly on an old
	// message: it continues where that tap leads.
	InputTap InputKind = "tap"
	// InputResume is the end of the delay the session waits at.
	InputResume InputKind = "resume"
	// InputTimeout is the end of the time a question gives.
	InputTimeout InputKind = "timeout"
	// InputHTTP is the outcome of the request of the http node the session
	// waits at.
	InputHTTP InputKind = "http"
)

// Input is one event a session steps on.
type Input struct {
	Kind InputKind
	// Text is the contact's text, or the title of what they tapped.
	Text string
	// Payload is the platform payload of a tapped quick reply or button
	// that is not one of the runner's (an author's own payload).
	Payload string
	// Tap is the decoded tap, for InputTap.
	Tap Tap
	// HTTP is the outcome of the request, for InputHTTP.
	HTTP CallResult
}

// Contact is what a run knows about the person: the variables
// {{contact.…}} and the subjects of conditions.
type Contact struct {
	FirstName string
	LastName  string
	Locale    string
	// Channel is the channel type ("messenger").
	Channel string
	// Tags are the contact's tag names.
	Tags []string
	// Fields are the contact's custom field values by key, as stored
	// (normalized text).
	Fields map[string]string
}

// Env is everything outside the session that a run reads: the contact,
// the time and the sources of randomness and time zones. Step reads it
// and never changes it.
type Env struct {
	Contact Contact
	// Now is the current time (from the caller's clock).
	Now time.Time
	// Location is the workspace's time zone, for business hours that
	// name none (nil: UTC).
	Location *time.Location
	// Rand returns a number in [0, n) (nil: always 0); randomizers use it.
	Rand func(n int) int
	// Zone loads an IANA time zone (nil: time.LoadLocation). The runner
	// passes a cached one.
	Zone func(name string) (*time.Location, error)
	// MaxSteps bounds the nodes one run executes (0: DefaultMaxSteps;
	// negative: none are left, the run stops at its first node).
	MaxSteps int
	// Payloads encodes the payloads of the quick replies, buttons and
	// choices the run sends.
	Payloads Payloads
}

// Reply is a message a run sends.
type Reply struct {
	// Node is the node that sent it.
	Node    string
	Content channel.Content
}

// Action is a change a run makes to the contact or the conversation, its
// values rendered. The runner applies it in its transaction; Simulate
// lists it.
type Action struct {
	// Node is the action node (or the question saving its answer, the
	// http node mapping its response).
	Node string
	flow.Action
}

// WaitKind is what a session waits for.
type WaitKind string

// Wait kinds.
const (
	WaitAnswer WaitKind = "answer" // a question's answer
	WaitTap    WaitKind = "tap"    // a tap on a quick reply or button
	WaitDelay  WaitKind = "delay"  // time to pass
	WaitHTTP   WaitKind = "http"   // an HTTP request to be made
	// WaitProfile is the runner's own: a flow about to start waits for the
	// contact's profile, at most until Until.
	WaitProfile WaitKind = "profile"
)

// Wait says what a session waits for once a step ends.
type Wait struct {
	Kind WaitKind
	Node string
	// Until is when the wait ends by itself: a delay's end, a question's
	// timeout (zero: never).
	Until time.Time
	// CancelOnReply is set for a delay that a message from the contact
	// ends, flow and all.
	CancelOnReply bool
	// Duration is how long a delay waits, for people (Simulate).
	Duration time.Duration
}

// Handoff gives the conversation to people.
type Handoff struct {
	Node string
	// Team is the team asked for ("" for anyone).
	Team string
}

// EventKind is what happened at a node, for its statistics.
type EventKind string

// Node events.
const (
	// EventEntered: a session reached the node.
	EventEntered EventKind = "entered"
	// EventCompleted: the node did its work and led on (or ended the
	// flow as drawn).
	EventCompleted EventKind = "completed"
	// EventDropped: the session stopped at the node without it finishing:
	// a question unanswered or answered wrong too often, a delay or a
	// request cancelled, a loop stopped.
	EventDropped EventKind = "dropped"
)

// Event is one node event.
type Event struct {
	Node string
	Kind EventKind
}

// Problem is something that went wrong in a run, for the flow's author.
// Messages are Parley's words and never hold contact data.
type Problem struct {
	Node    string `json:"node_id,omitempty"`
	Message string `json:"message"`
	// Fatal is set when the problem ended the session.
	Fatal bool `json:"fatal,omitempty"`
}

// Output is what one step did.
type Output struct {
	// State is the session after the step.
	State State
	// Consumed reports whether the input was the session's: false for a
	// message the session does not wait for (the caller then matches
	// triggers), and for a resume, timeout or answer that no longer
	// applies.
	Consumed bool
	// Invalid is set when the input was a wrong answer to the question
	// (already counted in State.Attempts).
	Invalid bool
	Replies []Reply
	Actions []Action
	// Wait is what the session now waits for (nil once ended).
	Wait *Wait
	// Handoff, when set, gives the conversation to people; the session
	// has ended.
	Handoff *Handoff
	// Resolve marks the conversation resolved.
	Resolve bool
	// Goto is the flow to start next (a goto_flow node); the session of
	// this program has ended.
	Goto string
	// GotoNode is the goto_flow node that asked for Goto.
	GotoNode string
	// Events are the node events, in order.
	Events   []Event
	Problems []Problem
	// Steps is how many nodes ran.
	Steps int
}
