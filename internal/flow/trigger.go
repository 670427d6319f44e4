package flow

// TriggerType names a kind of trigger; it is the "type" of a trigger in
// JSON.
type TriggerType string

// Trigger types. Their IDs are part of the format: never rename one.
const (
	// TriggerKeyword fires on a text message matching Keywords in Mode.
	TriggerKeyword TriggerType = "keyword"
	// TriggerPayload fires on a tapped button or quick reply whose
	// payload is Payload.
	TriggerPayload TriggerType = "payload"
	// TriggerGetStarted fires on the Get Started button.
	TriggerGetStarted TriggerType = "get_started"
	// TriggerConversationStart fires on a contact's first message.
	TriggerConversationStart TriggerType = "conversation_start"
	// TriggerRef fires when the contact arrives through an m.me link (or
	// ad, or plugin) whose ref is Ref.
	TriggerRef TriggerType = "ref"
	// TriggerDefault fires when nothing else matched, at most once per
	// contact per Cooldown.
	TriggerDefault TriggerType = "default"
	// TriggerComment fires on a comment on one of PostIDs (empty: any
	// post) matching Keywords (empty: any comment). Comment events arrive
	// with a later issue.
	TriggerComment TriggerType = "comment"
)

// TriggerTypes lists every trigger type, in the order the documentation
// uses.
func TriggerTypes() []TriggerType {
	return []TriggerType{TriggerKeyword, TriggerPayload, TriggerGetStarted, TriggerConversationStart,
		TriggerRef, TriggerDefault, TriggerComment}
}

// KeywordMode says how keywords are compared with a message.
type KeywordMode string

// Keyword modes. Matching (package flow/trigger) normalizes Unicode, folds
// case and treats scripts written without spaces (Khmer, Thai) as
// substrings.
const (
	ModeExact      KeywordMode = "exact"
	ModeContains   KeywordMode = "contains"
	ModeBeginsWith KeywordMode = "begins_with"
	ModeWholeWord  KeywordMode = "whole_word"
	// ModeRegex reads each keyword as an RE2 pattern, matched
	// case-insensitively against the normalized text.
	ModeRegex KeywordMode = "regex"
)

// KeywordModes lists every keyword mode.
func KeywordModes() []KeywordMode {
	return []KeywordMode{ModeExact, ModeContains, ModeBeginsWith, ModeWholeWord, ModeRegex}
}

// Trigger starts a flow. Which members apply depends on Type; Parse
// refuses the others.
type Trigger struct {
	// ID is stable across edits, like a node ID.
	ID   string      `json:"id"`
	Type TriggerType `json:"type"`
	// Mode, Keywords and Exclude apply to keyword and comment triggers.
	// A message containing any Exclude word (compared as whole words, or
	// as substrings in scripts written without spaces) does not fire the
	// trigger.
	Mode     KeywordMode `json:"mode,omitempty"`
	Keywords []string    `json:"keywords,omitempty"`
	Exclude  []string    `json:"exclude,omitempty"`
	// Payload applies to payload triggers.
	Payload string `json:"payload,omitempty"`
	// Ref applies to ref triggers.
	Ref string `json:"ref,omitempty"`
	// Cooldown applies to default triggers: how long before the same
	// contact gets the default reply again. Empty: every time.
	Cooldown Duration `json:"cooldown,omitempty"`
	// PostIDs applies to comment triggers.
	PostIDs []string `json:"post_ids,omitempty"`
	// Channels limits the trigger to these channel types; empty: all.
	Channels []string `json:"channels,omitempty"`
	// Priority orders triggers that match the same message: higher wins.
	Priority int `json:"priority,omitempty"`
}

// triggerKeys lists the members each trigger type takes besides "type".
func triggerKeys(t string) ([]string, bool) {
	common := []string{"id", "channels", "priority"}
	switch TriggerType(t) {
	case TriggerKeyword:
		return append(common, "mode", "keywords", "exclude"), true
	case TriggerComment:
		return append(common, "mode", "keywords", "exclude", "post_ids"), true
	case TriggerPayload:
		return append(common, "payload"), true
	case TriggerRef:
		return append(common, "ref"), true
	case TriggerDefault:
		return append(common, "cooldown"), true
	case TriggerGetStarted, TriggerConversationStart:
		return common, true
	}
	return nil, false
}

// discriminator implements discriminated.
func (Trigger) discriminator() string { return "type" }

// variantKeys implements discriminated.
func (Trigger) variantKeys(v string) ([]string, bool) { return triggerKeys(v) }

// label names the trigger for people.
func (t Trigger) label() string { return "“" + t.ID + "”" }
