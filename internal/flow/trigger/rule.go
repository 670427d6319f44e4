package trigger

import "time"

// Kind is what makes a trigger fire. The string values are the "type"
// values of a trigger in the flow document (docs/flows.md).
type Kind string

// The trigger kinds.
const (
	// KindKeyword fires on the text of an inbound message (Keywords, Mode).
	KindKeyword Kind = "keyword"
	// KindPayload fires on a button postback or quick-reply payload equal to
	// Payload.
	KindPayload Kind = "payload"
	// KindGetStarted fires when the person presses Get Started.
	KindGetStarted Kind = "get_started"
	// KindConversationStart fires on the first event of a new conversation.
	KindConversationStart Kind = "conversation_start"
	// KindRef fires on an m.me link or ad carrying the ref parameter Ref.
	KindRef Kind = "ref"
	// KindDefault fires when a message, postback or Get Started matched
	// nothing else, at most once per Cooldown per contact.
	KindDefault Kind = "default"
	// KindComment fires on a public comment on a post (PostIDs, empty = any
	// post) whose text matches Keywords (empty = any comment). The comment
	// events arrive with a later issue; the rules are defined and matched now.
	KindComment Kind = "comment"
)

// Mode is how a keyword is compared with a text. All modes compare the
// normalized forms (see Normalize) and never match in the middle of a
// character cluster (see doc.go).
type Mode string

// The keyword modes.
const (
	// ModeExact: the whole message is the keyword.
	ModeExact Mode = "exact"
	// ModeContains: the keyword appears anywhere.
	ModeContains Mode = "contains"
	// ModeBeginsWith: the message starts with the keyword.
	ModeBeginsWith Mode = "begins_with"
	// ModeWholeWord: the keyword appears as whole words in scripts written
	// with spaces, and as a substring in scripts written without them.
	ModeWholeWord Mode = "whole_word"
	// ModeRegex: each keyword is an RE2 regular expression, case-insensitive,
	// run against the normalized text.
	ModeRegex Mode = "regex"
)

// Rule is one trigger of one flow, in the matcher's own terms: the flow
// package converts its document triggers to Rules, so this package stays
// independent of it.
type Rule struct {
	// ID is the trigger's ID, unique within its flow.
	ID string
	// FlowID is the flow the trigger starts. Flow IDs are UUIDv7, so their
	// string order is creation order: the tie-break between equal rules.
	FlowID string
	// FlowName is shown in problems; FlowID is shown when it is empty.
	FlowName string
	// Priority: the highest fires first. Default 0; negative is allowed.
	Priority int
	// Kind is what fires the trigger.
	Kind Kind
	// Mode is the keyword comparison for KindKeyword and KindComment.
	Mode Mode
	// Keywords are the words or phrases (or, in ModeRegex, patterns) of a
	// keyword or comment rule; any one of them firing is enough.
	Keywords []string
	// Exclude vetoes the rule when any of these words appears in the text,
	// compared as in ModeWholeWord.
	Exclude []string
	// Channels limits the rule to these channel types ("messenger", …);
	// empty means every channel.
	Channels []string
	// PostIDs limits a comment rule to these posts; empty means every post.
	PostIDs []string
	// Payload is the postback or quick-reply payload of a payload rule,
	// compared exactly (it is an identifier, not prose).
	Payload string
	// Ref is the ref parameter of a ref rule, compared exactly.
	Ref string
	// Cooldown is, for a default rule, the least time between two default
	// replies to the same contact. Zero means no cooldown.
	Cooldown time.Duration
}

// EventKind is the kind of inbound event being matched.
type EventKind string

// The event kinds.
const (
	// EventText is a message from the person: text, a quick-reply tap (Text
	// is its title and Payload its payload) or an attachment (Text empty).
	EventText EventKind = "text"
	// EventPayload is a button or persistent-menu postback.
	EventPayload EventKind = "payload"
	// EventGetStarted is the Get Started button; Payload and Ref are set
	// when the platform sent them with it.
	EventGetStarted EventKind = "get_started"
	// EventRef is a referral (m.me link, ad, QR code) on an existing thread.
	EventRef EventKind = "ref"
	// EventComment is a public comment on a post.
	EventComment EventKind = "comment"
)

// Event is one inbound event to match.
type Event struct {
	Kind EventKind
	// Text is the message or comment text, as received (Match normalizes).
	Text string
	// Payload is the postback or quick-reply payload, if any.
	Payload string
	// Ref is the referral's ref parameter, if any.
	Ref string
	// Channel is the channel type the event came from ("messenger").
	Channel string
	// PostID is the commented post, for EventComment.
	PostID string
	// NewConversation is true for the first event of a conversation; it
	// lets conversation_start rules fire.
	NewConversation bool
	// LastDefaultAt is when this contact last got a default reply (zero:
	// never). Now is the current time from the caller's clock. Together
	// they enforce a default rule's Cooldown here, so the rule is in one
	// place and testable; the caller records LastDefaultAt when it sends a
	// default reply.
	LastDefaultAt time.Time
	Now           time.Time
}

// Result is the rule that fired.
type Result struct {
	RuleID   string
	FlowID   string
	Kind     Kind
	Priority int
	// Keyword is the keyword (or regular expression) that matched, as the
	// author wrote it; empty for kinds without keywords and for comment
	// rules that take any comment.
	Keyword string
	// Cooldown is the default rule's cooldown (zero for other kinds).
	Cooldown time.Duration
	// CoolingDown is set, with Match returning false, when the only rule
	// that would fire is a default rule still within its cooldown. The
	// caller may log it; it must not reply.
	CoolingDown bool
}

// Options bound the matcher. Zero values take the defaults.
type Options struct {
	// MaxTextBytes is how much of an event's text is examined, before and
	// after normalization. Default 4096.
	MaxTextBytes int
	// MaxKeywordBytes is the longest normalized keyword or exclusion word.
	// Default 512.
	MaxKeywordBytes int
	// MaxPatternBytes is the longest regular expression. Default 512.
	MaxPatternBytes int
	// MaxRules is the most rules one matcher holds. Default 20000.
	MaxRules int
	// MaxConflicts is the most conflicts reported one by one; the rest are
	// counted in one summary problem. Default 200.
	MaxConflicts int
}

// Default Options values.
const (
	DefaultMaxTextBytes    = 4096
	DefaultMaxKeywordBytes = 512
	DefaultMaxPatternBytes = 512
	DefaultMaxRules        = 20000
	DefaultMaxConflicts    = 200
)

// Severity says whether a problem left its rule out.
type Severity string

// The severities.
const (
	// SeverityError: the rule, or the named keyword of it, was left out of
	// the matcher. Publishing should refuse flows with errors.
	SeverityError Severity = "error"
	// SeverityWarning: the rule is in the matcher but probably does not do
	// what its author meant (conflicts, rules that can never fire, fields
	// that the kind ignores).
	SeverityWarning Severity = "warning"
)

// Problem codes, stable for the API and the editor.
const (
	CodeInvalidRule     = "invalid_rule"       // missing ID, flow, kind or mode
	CodeDuplicateRule   = "duplicate_rule"     // same (FlowID, ID) twice
	CodeEmptyKeywords   = "empty_keywords"     // a keyword rule with no usable keyword
	CodeEmptyKeyword    = "empty_keyword"      // one keyword is empty once normalized
	CodeKeywordTooLong  = "keyword_too_long"   // above MaxKeywordBytes
	CodeBadRegex        = "bad_regex"          // does not compile, or too long
	CodeMatchesAll      = "matches_everything" // a regex matching the empty text
	CodeNeverFires      = "never_fires"        // an exclusion word vetoes the keyword itself
	CodeMarkStart       = "starts_with_mark"   // a keyword starting with a combining mark
	CodeIgnoredField    = "ignored_field"      // a field this kind does not use
	CodeConflict        = "conflict"           // two rules fire on the same input
	CodeTooManyConflict = "too_many_conflicts" // summary beyond MaxConflicts
)

// Problem is something the author should see about a rule.
type Problem struct {
	Severity Severity
	Code     string
	RuleID   string
	FlowID   string
	// Field names the offending field, with an index where it is a list
	// ("keywords[2]"); empty when the whole rule is meant.
	Field string
	// Message is a plain sentence for the author.
	Message string
	// OtherRuleID and OtherFlowID name the other rule of a conflict.
	OtherRuleID string
	OtherFlowID string
}
