package flow

import (
	"strconv"
	"strings"
)

// TriggerSummary is a trigger in a few words, for lists of flows.
type TriggerSummary struct {
	ID      string
	Type    TriggerType
	Summary string
}

// Summaries summarizes triggers, in order.
func Summaries(ts []Trigger) []TriggerSummary {
	out := make([]TriggerSummary, len(ts))
	for i, t := range ts {
		out[i] = TriggerSummary{ID: t.ID, Type: t.Type, Summary: t.Summary()}
	}
	return out
}

// summaryKeywords is how many keywords a summary quotes before it counts
// the rest.
const summaryKeywords = 3

// Summary describes the trigger in a few English words:
// "Message contains “price” or “តម្លៃ”, not “no” (messenger)".
func (t Trigger) Summary() string {
	var b strings.Builder
	switch t.Type {
	case TriggerKeyword:
		b.WriteString("Message " + modeWords(t.Mode) + " " + quoteList(t.Keywords, "or"))
	case TriggerComment:
		if len(t.Keywords) == 0 {
			b.WriteString("Any comment")
		} else {
			b.WriteString("Comment " + modeWords(t.Mode) + " " + quoteList(t.Keywords, "or"))
		}
		switch n := len(t.PostIDs); n {
		case 0:
		case 1:
			b.WriteString(" on 1 post")
		default:
			b.WriteString(" on " + strconv.Itoa(n) + " posts")
		}
	case TriggerPayload:
		b.WriteString("Button or quick reply " + t.Payload)
	case TriggerGetStarted:
		b.WriteString("Get Started button")
	case TriggerConversationStart:
		b.WriteString("First message of a conversation")
	case TriggerRef:
		b.WriteString("Link or ad with ref " + t.Ref)
	case TriggerDefault:
		b.WriteString("No other trigger matched")
		if t.Cooldown != "" {
			b.WriteString(", at most once per " + string(t.Cooldown) + " per contact")
		}
	default:
		b.WriteString(string(t.Type))
	}
	if len(t.Exclude) > 0 {
		b.WriteString(", not " + quoteList(t.Exclude, "or"))
	}
	if len(t.Channels) > 0 {
		b.WriteString(" (" + strings.Join(t.Channels, ", ") + ")")
	}
	return b.String()
}

// modeWords says how a keyword mode compares.
func modeWords(m KeywordMode) string {
	switch m {
	case ModeExact:
		return "is"
	case ModeBeginsWith:
		return "begins with"
	case ModeWholeWord:
		return "has the word"
	case ModeRegex:
		return "matches"
	}
	return "contains" // ModeContains, and the default
}

// quoteList quotes the first few words and counts the rest:
// “a”, “b” or “c”; “a”, “b”, “c” or 2 more.
func quoteList(words []string, conj string) string {
	if len(words) == 0 {
		return "(nothing)"
	}
	n := min(len(words), summaryKeywords)
	q := make([]string, n)
	for i := range n {
		q[i] = "“" + truncate(words[i], 40) + "”"
	}
	if rest := len(words) - n; rest > 0 {
		return strings.Join(q, ", ") + " " + conj + " " + strconv.Itoa(rest) + " more"
	}
	if n == 1 {
		return q[0]
	}
	return strings.Join(q[:n-1], ", ") + " " + conj + " " + q[n-1]
}
