package flow

import (
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleyhq/parley/internal/validate"
)

// Limits checked by Validate. Messenger's are the tightest of the
// platforms Parley serves; the channel layer adapts messages to each.
const (
	maxQuickReplies = 13
	maxButtons      = 3
	maxCards        = 10
	maxTitle        = 20 // characters of a chip or button title shown uncut
	maxBranches     = 20
	maxRules        = 20
	maxActions      = 20
	maxRandom       = 10
	maxWeight       = 10000
	maxMapPath      = 16 // segments of a response path
	maxAttempts     = 10
	maxDelay        = 90 * 24 * time.Hour
	minTimeout      = time.Minute
	maxTimeout      = 30 * 24 * time.Hour
)

// node dispatches to the check of n's type.
func (v *validator) node(n Node) {
	switch b := n.Body.(type) {
	case *MessageNode:
		v.message(n, b)
	case *QuestionNode:
		v.question(n, b)
	case *ConditionNode:
		v.condition(n, b)
	case *ActionNode:
		v.actions(n, b)
	case *DelayNode:
		v.delay(n, b)
	case *HTTPNode:
		v.http(n, b)
	case *HandoffNode:
		v.team(n, "team", b.Team)
	case *AIAnswerNode:
		v.team(n, "team", b.Team)
	case *GotoFlowNode:
		switch {
		case b.Flow == "":
			v.nodeErr(n, "flow", "does not say which flow to go to.")
		case !validID(b.Flow):
			v.nodeErr(n, "flow", "goes to “%s”, which is not a valid flow ID.", truncate(b.Flow, 40))
		case v.known.Flows != nil && !v.known.Flows[b.Flow]:
			v.nodeErr(n, "flow", "goes to the flow “%s”, which does not exist.", b.Flow)
		}
	case *RandomizerNode:
		if len(b.Branches) < 2 || len(b.Branches) > maxRandom {
			v.nodeErr(n, "branches", "needs 2 to %d branches to split between.", maxRandom)
		}
		for i, br := range b.Branches {
			if br.Weight <= 0 || br.Weight > maxWeight {
				v.nodeErr(n, index("branches", i)+".weight", "has a branch with weight %d; use a whole number from 1 to %d.", br.Weight, maxWeight)
			}
		}
	}
}

// question checks a question node.
func (v *validator) question(n Node, q *QuestionNode) {
	if strings.TrimSpace(q.Text) == "" {
		v.nodeErr(n, "text", "asks nothing: give the question a text.")
	}
	v.template(n, "text", q.Text)
	v.template(n, "retry", q.Retry)
	if !slices.Contains([]AnswerType{AnswerText, AnswerEmail, AnswerPhone, AnswerNumber, AnswerDate, AnswerChoice}, q.Answer) {
		v.nodeErr(n, "answer", "expects the unknown answer type “%s”; use text, email, phone, number, date or choice.", q.Answer)
	}
	if q.Answer == AnswerChoice {
		if len(q.Choices) == 0 {
			v.nodeErr(n, "choices", "is a choice question without choices.")
		}
		if len(q.Choices) > maxQuickReplies {
			v.nodeErr(n, "choices", "has %d choices; platforms show at most %d.", len(q.Choices), maxQuickReplies)
		}
		for i, c := range q.Choices {
			v.title(n, index("choices", i)+".title", c.Title)
			if j := slices.IndexFunc(q.Choices, func(o Choice) bool { return strings.EqualFold(o.value(), c.value()) }); j != i {
				v.nodeErr(n, index("choices", i), "has two choices that both save “%s”; the answer could not tell them apart.", c.value())
			}
			v.payload(n, index("choices", i)+".value", c.Value)
		}
	} else if len(q.Choices) > 0 {
		v.nodeErr(n, "choices", "has choices but expects an answer of type %s; only choice questions use them.", q.Answer)
	}
	if q.Region != "" {
		if q.Answer != AnswerPhone {
			v.nodeErr(n, "region", "sets a region, which only phone questions use.")
		} else if strings.ToUpper(q.Region) != q.Region || !phonenumbers.GetSupportedRegions()[q.Region] {
			v.nodeErr(n, "region", "has the region “%s”; use a two-letter country code in capitals, like KH.", q.Region)
		}
	}
	if q.DateOrder != "" {
		if q.Answer != AnswerDate {
			v.nodeErr(n, "date_order", "sets a date order, which only date questions use.")
		} else if q.DateOrder != DateDMY && q.DateOrder != DateMDY {
			v.nodeErr(n, "date_order", "has the date order “%s”; use dmy or mdy.", q.DateOrder)
		}
	}
	if (q.Min != nil || q.Max != nil) && q.Answer != AnswerNumber {
		v.nodeErr(n, "min", "sets a minimum or maximum, which only number questions use.")
	}
	if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
		v.nodeErr(n, "min", "has a minimum above its maximum.")
	}
	if q.MaxAttempts < 0 || q.MaxAttempts > maxAttempts {
		v.nodeErr(n, "max_attempts", "allows %d attempts; use 1 to %d (or leave it out for %d).", q.MaxAttempts, maxAttempts, DefaultMaxAttempts)
	}
	if q.Field != "" {
		if t, ok := v.field(n, "field", q.Field); ok && !answerFits(q.Answer, t) {
			v.nodeErr(n, "field", "saves its %s answer to the custom field “%s”, which holds %s values.", q.Answer, q.Field, t)
		}
	}
	if q.Var != "" && !validID(q.Var) {
		v.nodeErr(n, "var", "saves to the variable “%s”; use 1 to 64 letters, digits, - or _.", truncate(q.Var, 40))
	}
	if q.Timeout != "" {
		if d, err := q.Timeout.Value(); err != nil {
			v.nodeErr(n, "timeout", "has the timeout “%s”: %v.", q.Timeout, err)
		} else if d < minTimeout || d > maxTimeout {
			v.nodeErr(n, "timeout", "waits %s for an answer; use 1 minute to 30 days.", q.Timeout)
		}
	} else if q.TimeoutNext != "" {
		v.nodeErr(n, "timeout_next", "has a timeout branch but no timeout: say how long to wait.")
	}
}

// answerFits reports whether an answer type can be saved to a field type
// ("" fits everything; a text field takes any answer).
func answerFits(a AnswerType, f FieldType) bool {
	switch f {
	case "", FieldText:
		return true
	case FieldChoice:
		return a == AnswerChoice
	}
	return string(a) == string(f)
}

// condition checks a condition node.
func (v *validator) condition(n Node, c *ConditionNode) {
	if len(c.Branches) == 0 || len(c.Branches) > maxBranches {
		v.nodeErr(n, "branches", "needs 1 to %d branches.", maxBranches)
	}
	for i, b := range c.Branches {
		f := index("branches", i)
		if b.Match != "" && b.Match != MatchAll && b.Match != MatchAny {
			v.nodeErr(n, f+".match", "has the match “%s”; use all or any.", b.Match)
		}
		if len(b.Rules) == 0 || len(b.Rules) > maxRules {
			v.nodeErr(n, f+".rules", "has a branch that needs 1 to %d rules.", maxRules)
		}
		for j, r := range b.Rules {
			v.rule(n, f+"."+index("rules", j), r)
		}
	}
}

// rule checks one rule of a branch.
func (v *validator) rule(n Node, f string, r Rule) {
	keys, ok := ruleKeys(r.Subject)
	if !ok {
		v.nodeErr(n, f+".subject", "has a rule about “%s”; use tag, field, channel, contact or business_hours.", r.Subject)
		return
	}
	if extra := unused(r, append(keys, "subject")); len(extra) > 0 {
		v.nodeErr(n, f+"."+extra[0], "has a rule about %s, which does not use “%s”.", r.Subject, extra[0])
	}
	ops := map[string][]string{
		SubjectTag:           {OpExists, OpNotExists},
		SubjectField:         {OpEq, OpNeq, OpContains, OpGt, OpLt, OpExists, OpNotExists},
		SubjectContact:       {OpEq, OpNeq, OpContains, OpExists, OpNotExists},
		SubjectChannel:       {OpEq, OpNeq},
		SubjectBusinessHours: {OpOpen, OpClosed},
	}[r.Subject]
	if !slices.Contains(ops, r.Op) {
		v.nodeErr(n, f+".op", "has a rule about %s with the operator “%s”; use %s.", r.Subject, r.Op, strings.Join(ops, ", "))
		return
	}
	needsValue := r.Op != OpExists && r.Op != OpNotExists && r.Subject != SubjectBusinessHours
	if needsValue && r.Value == "" {
		v.nodeErr(n, f+".value", "has a rule without a value to compare with.")
	}
	if !needsValue && r.Value != "" {
		v.nodeErr(n, f+".value", "has a rule that does not compare with a value but gives one.")
	}
	switch r.Subject {
	case SubjectTag:
		if v.tagName(n, f+".key", r.Key) && v.known.Tags != nil && !v.known.Tags[r.Key] {
			v.nodeWarn(n, f+".key", "checks the tag “%s”, which no contact has yet.", r.Key)
		}
	case SubjectField:
		t, ok := v.field(n, f+".key", r.Key)
		if !ok || (r.Op != OpGt && r.Op != OpLt) {
			return
		}
		_, isNum := Number(r.Value)
		_, isDate := time.Parse(time.DateOnly, r.Value)
		switch {
		case t == "" && !isNum && isDate != nil:
			v.nodeErr(n, f+".value", "compares with “%s”, which is neither a number nor a date like 2026-12-31.", r.Value)
		case t == FieldNumber && !isNum:
			v.nodeErr(n, f+".value", "compares with “%s”, which is not a number.", r.Value)
		case t == FieldDate && isDate != nil:
			v.nodeErr(n, f+".value", "compares with “%s”, which is not a date like 2026-12-31.", r.Value)
		case t != "" && t != FieldNumber && t != FieldDate:
			v.nodeErr(n, f+".op", "compares the %s field “%s” as greater or less; only number and date fields compare so.", t, r.Key)
		}
	case SubjectContact:
		if !slices.Contains([]string{ContactFirstName, ContactLastName, ContactLocale}, r.Key) {
			v.nodeErr(n, f+".key", "reads the contact's “%s”; use first_name, last_name or locale.", r.Key)
		}
	case SubjectChannel:
		if !knownChannel(r.Value) {
			v.nodeErr(n, f+".value", "compares with the unknown channel “%s”; use %s.", r.Value, channelList)
		}
	case SubjectBusinessHours:
		v.hours(n, f+".hours", r.Hours)
	}
}

// hours checks business hours.
func (v *validator) hours(n Node, f string, h *BusinessHours) {
	if h == nil || len(h.Weekly) == 0 {
		v.nodeErr(n, f, "checks business hours but gives none.")
		return
	}
	if h.TimeZone != "" {
		if _, err := time.LoadLocation(h.TimeZone); err != nil || h.TimeZone == "Local" {
			v.nodeErr(n, f+".time_zone", "uses the unknown time zone “%s”; use a name like Asia/Phnom_Penh.", h.TimeZone)
		}
	}
	for i, iv := range h.Weekly {
		g := f + "." + index("weekly", i)
		if len(iv.Days) == 0 {
			v.nodeErr(n, g+".days", "has opening hours on no day.")
		}
		for j, d := range iv.Days {
			if _, ok := dayIndex(d); !ok {
				v.nodeErr(n, g+"."+index("days", j), "has the day “%s”; use mon, tue, wed, thu, fri, sat or sun.", d)
			}
		}
		from, err1 := clock(iv.From)
		to, err2 := clock(iv.To)
		switch {
		case err1 != nil:
			v.nodeErr(n, g+".from", "opens at “%s”: %v.", iv.From, err1)
		case err2 != nil:
			v.nodeErr(n, g+".to", "closes at “%s”: %v.", iv.To, err2)
		case from >= to:
			v.nodeErr(n, g+".to", "closes at %s, not after it opens at %s; split hours past midnight into two intervals.", iv.To, iv.From)
		}
	}
}

// actions checks an action node.
func (v *validator) actions(n Node, a *ActionNode) {
	if len(a.Actions) == 0 || len(a.Actions) > maxActions {
		v.nodeErr(n, "actions", "needs 1 to %d actions.", maxActions)
	}
	for i, act := range a.Actions {
		f := index("actions", i)
		keys, ok := actionKeys(act.Type)
		if !ok {
			v.nodeErr(n, f+".type", "has the unknown action “%s”; use one of %s.", act.Type, strings.Join(ActionTypes(), ", "))
			continue
		}
		if extra := unused(act, append(keys, "type")); len(extra) > 0 {
			v.nodeErr(n, f+"."+extra[0], "has the action %s, which does not use “%s”.", act.Type, extra[0])
		}
		switch act.Type {
		case ActionAddTag:
			v.tagName(n, f+".tag", act.Tag)
		case ActionRemoveTag:
			if v.tagName(n, f+".tag", act.Tag) && v.known.Tags != nil && !v.known.Tags[act.Tag] {
				v.nodeWarn(n, f+".tag", "removes the tag “%s”, which no contact has yet.", act.Tag)
			}
		case ActionSetField:
			t, ok := v.field(n, f+".field", act.Field)
			switch {
			case act.Value == "":
				v.nodeErr(n, f+".value", "sets a field to nothing; use clear_field to empty it.")
			case ok && len(Variables(act.Value)) == 0:
				if msg := literalFits(act.Value, t); msg != "" {
					v.nodeErr(n, f+".value", "sets the %s field “%s” to “%s”, %s.", t, act.Field, truncate(act.Value, 40), msg)
				}
			}
			v.template(n, f+".value", act.Value)
		case ActionClearField:
			v.field(n, f+".field", act.Field)
		case ActionSetStage:
			switch {
			case act.Stage == "":
				v.nodeErr(n, f+".stage", "sets no lead stage.")
			case v.known.Stages != nil && !v.known.Stages[act.Stage]:
				v.nodeErr(n, f+".stage", "sets the lead stage “%s”, which does not exist.", act.Stage)
			}
		case ActionSubscribe, ActionUnsubscribe:
			if act.Topic != "" && !validID(act.Topic) {
				v.nodeErr(n, f+".topic", "names the topic “%s”; use 1 to 64 letters, digits, - or _.", truncate(act.Topic, 40))
			}
		case ActionNotifyTeam:
			v.team(n, f+".team", act.Team)
			v.template(n, f+".text", act.Text)
		}
	}
}

// literalFits says why a fixed value cannot be stored in a field of type
// t, or "".
func literalFits(s string, t FieldType) string {
	switch t {
	case FieldNumber:
		if _, ok := Number(s); !ok {
			return "which is not a number"
		}
	case FieldDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "which is not a date like 2026-12-31"
		}
	case FieldBoolean:
		if s != "true" && s != "false" {
			return "which is not true or false"
		}
	case FieldEmail:
		if _, _, err := validate.Email("value", s); err != nil {
			return "which is not an e-mail address"
		}
	case FieldPhone:
		if _, ok := Phone(s, ""); !ok {
			return "which is not a phone number with its country code, like +85512345678"
		}
	}
	return ""
}

// delay checks a delay node.
func (v *validator) delay(n Node, d *DelayNode) {
	dur, err := d.Duration.Value()
	switch {
	case d.Duration == "":
		v.nodeErr(n, "duration", "does not say how long to wait.")
	case err != nil:
		v.nodeErr(n, "duration", "has the duration “%s”: %v.", d.Duration, err)
	case dur < time.Second || dur > maxDelay:
		v.nodeErr(n, "duration", "waits %s; use 1 second to 90 days.", d.Duration)
	}
}
