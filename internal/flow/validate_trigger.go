package flow

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Trigger limits.
const (
	// MaxKeywords bounds the keywords (and exclusions) of one trigger.
	MaxKeywords = 100
	// MaxPriority bounds a trigger's priority either way.
	MaxPriority = 1000
	// maxPayload is the Send API's limit on a payload, in bytes.
	maxPayload = 1000
	// maxRef is Messenger's limit on an m.me ref.
	maxRefLen = 250
	// maxPattern bounds a regex keyword, in bytes.
	maxPattern = 500
)

// trigErr and trigWarn record a problem of trigger t.
func (v *validator) trigErr(t Trigger, field, format string, args ...any) {
	v.add(SeverityError, "", t.ID, field, "Trigger "+t.label()+" "+format, args...)
}
func (v *validator) trigWarn(t Trigger, field, format string, args ...any) {
	v.add(SeverityWarning, "", t.ID, field, "Trigger "+t.label()+" "+format, args...)
}

// trigger checks one trigger.
func (v *validator) trigger(t Trigger) {
	if !validID(t.ID) {
		v.add(SeverityError, "", t.ID, "id", "A trigger has the ID “%s”; use 1 to 64 letters, digits, - or _.", truncate(t.ID, MaxIDLen))
	} else if v.triggerIDs[t.ID] {
		v.add(SeverityError, "", t.ID, "id", "Two triggers have the ID “%s”; IDs must be unique.", t.ID)
	}
	v.triggerIDs[t.ID] = true
	keys, ok := triggerKeys(string(t.Type))
	if !ok {
		v.trigErr(t, "type", "has the unknown type “%s”; use one of %s.", t.Type, strings.Join(variantsOf(reflect.TypeFor[Trigger]()), ", "))
		return
	}
	if extra := unused(t, append(keys, "type")); len(extra) > 0 {
		v.trigErr(t, extra[0], "is of type %s, which does not use “%s”.", t.Type, extra[0])
	}
	for i, c := range t.Channels {
		if !knownChannel(c) {
			v.trigErr(t, index("channels", i), "names the unknown channel “%s”; use %s.", c, channelList)
		} else if slices.Index(t.Channels, c) != i {
			v.trigWarn(t, index("channels", i), "lists the channel “%s” twice.", c)
		}
	}
	if t.Priority > MaxPriority || t.Priority < -MaxPriority {
		v.trigErr(t, "priority", "has priority %d; use a number from %d to %d.", t.Priority, -MaxPriority, MaxPriority)
	}
	switch t.Type {
	case TriggerKeyword:
		if len(t.Keywords) == 0 {
			v.trigErr(t, "keywords", "has no keywords.")
		}
		v.keywords(t)
	case TriggerComment:
		v.keywords(t)
		for i, p := range t.PostIDs {
			if strings.TrimSpace(p) == "" {
				v.trigErr(t, index("post_ids", i), "has an empty post ID.")
			}
		}
	case TriggerPayload:
		switch {
		case t.Payload == "":
			v.trigErr(t, "payload", "has no payload.")
		case len(t.Payload) > maxPayload:
			v.trigErr(t, "payload", "has a payload longer than %d bytes, which platforms refuse.", maxPayload)
		}
		v.duplicate(t, "payload", func(o Trigger) bool { return o.Payload == t.Payload })
	case TriggerRef:
		if !validRef(t.Ref) {
			v.trigErr(t, "ref", "has the ref “%s”; use 1 to %d letters, digits, -, _ or =.", truncate(t.Ref, 40), maxRefLen)
		}
		v.duplicate(t, "ref", func(o Trigger) bool { return o.Ref == t.Ref })
	case TriggerDefault:
		if d, err := t.Cooldown.Value(); err != nil {
			v.trigErr(t, "cooldown", "has the cooldown “%s”: %v.", t.Cooldown, err)
		} else if d < 0 {
			v.trigErr(t, "cooldown", "has a negative cooldown.")
		}
		v.duplicate(t, "type", func(Trigger) bool { return true })
	case TriggerGetStarted, TriggerConversationStart:
		v.duplicate(t, "type", func(Trigger) bool { return true })
	}
}

// duplicate warns when an earlier trigger of the same type and channels
// matches the same thing (same holds), since only one of them can fire.
func (v *validator) duplicate(t Trigger, field string, same func(Trigger) bool) {
	for _, o := range v.doc.Triggers {
		if o.ID == t.ID {
			return // no earlier trigger is the same
		}
		if o.Type == t.Type && slices.Equal(o.Channels, t.Channels) && same(o) {
			v.trigWarn(t, field, "matches the same as trigger “%s”; only the one with the higher priority will ever run.", o.ID)
			return
		}
	}
}

// keywords checks the mode, keywords and exclusions of a keyword or
// comment trigger.
func (v *validator) keywords(t Trigger) {
	if len(t.Keywords) > 0 || len(t.Exclude) > 0 || t.Mode != "" {
		if !slices.Contains(KeywordModes(), t.Mode) {
			v.trigErr(t, "mode", "needs a mode: exact, contains, begins_with, whole_word or regex.")
		}
	}
	if len(t.Keywords) > MaxKeywords {
		v.trigErr(t, "keywords", "has %d keywords; use at most %d.", len(t.Keywords), MaxKeywords)
	}
	if len(t.Exclude) > MaxKeywords {
		v.trigErr(t, "exclude", "has %d exclusions; use at most %d.", len(t.Exclude), MaxKeywords)
	}
	check := func(list string, words []string, patterns bool) {
		for i, k := range words {
			field := index(list, i)
			switch {
			case strings.TrimSpace(k) == "":
				v.trigErr(t, field, "has an empty keyword.")
			case !utf8.ValidString(k):
				v.trigErr(t, field, "has a keyword that is not valid text.")
			case patterns && len(k) > maxPattern:
				v.trigErr(t, field, "has a pattern longer than %d characters.", maxPattern)
			case patterns:
				if _, err := regexp.Compile(k); err != nil {
					v.trigErr(t, field, "has the keyword “%s”, which is not a valid pattern: %s.", truncate(k, 60), regexpReason(err))
				}
			}
		}
	}
	check("keywords", t.Keywords, t.Mode == ModeRegex)
	check("exclude", t.Exclude, false)
}

// regexpReason words a regexp error without Go's prefix.
func regexpReason(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "error parsing regexp: ")
	return s
}

// validRef reports whether s is a valid m.me ref.
func validRef(s string) bool {
	if s == "" || len(s) > maxRefLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '=') {
			return false
		}
	}
	return true
}
