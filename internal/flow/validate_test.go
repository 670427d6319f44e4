package flow

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateBase(t *testing.T) {
	if ps := Validate(base(t), baseKnown()); len(ps) != 0 {
		t.Fatalf("base document has problems: %+v", ps)
	}
	// Nothing known: references are not checked, the rest still is.
	if ps := Validate(base(t), Known{}); len(ps) != 0 {
		t.Fatalf("base document has problems with nothing known: %+v", ps)
	}
}

func TestValidateMessages(t *testing.T) {
	d := base(t)
	body[*MessageNode](t, d, "msg").Next = "n9"
	got := Validate(d, baseKnown())
	want := []Problem{{Severity: SeverityError, NodeID: "msg", Field: "next", Message: "Node “Hello” jumps to “n9”, which does not exist."}}
	// cond is no longer reached from msg, but through nothing else either.
	if diff := cmp.Diff(want, got[:1]); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !hasProblem(got, SeverityWarning, "cond", "") {
		t.Errorf("unreachable node not reported: %+v", got)
	}
	if !HasErrors(got) || HasErrors([]Problem{{Severity: SeverityWarning}}) {
		t.Error("HasErrors")
	}
}

// Every rule of Validate, broken one at a time on the valid base document.
func TestValidateRules(t *testing.T) {
	type mut = func(t *testing.T, d *Document)
	msg := func(t *testing.T, d *Document) *MessageNode { return body[*MessageNode](t, *d, "msg") }
	ask := func(t *testing.T, d *Document) *QuestionNode { return body[*QuestionNode](t, *d, "ask") }
	rule := func(t *testing.T, d *Document, i int) *Rule {
		return &body[*ConditionNode](t, *d, "cond").Branches[0].Rules[i]
	}
	act := func(t *testing.T, d *Document, i int) *Action { return &body[*ActionNode](t, *d, "act").Actions[i] }
	call := func(t *testing.T, d *Document) *HTTPNode { return body[*HTTPNode](t, *d, "call") }
	addNode := func(n Node) mut { return func(t *testing.T, d *Document) { d.Nodes = append(d.Nodes, n) } }
	w, e := SeverityWarning, SeverityError
	const noErrors = Severity("no errors")
	tests := []struct {
		name      string
		mut       mut
		sev       Severity
		id, field string
		msg       string
	}{
		// Document and graph.
		{"no nodes", func(t *testing.T, d *Document) { d.Nodes = nil }, e, "", "nodes", "no nodes"},
		{"no start", func(t *testing.T, d *Document) { d.Start = "" }, e, "", "start", "no start node"},
		{"start missing", func(t *testing.T, d *Document) { d.Start = "zz" }, e, "", "start", "starts at “zz”, which does not exist"},
		{"long name", func(t *testing.T, d *Document) { d.Name = strings.Repeat("n", 201) }, e, "", "name", "longer than 200"},
		{"too many nodes", func(t *testing.T, d *Document) {
			for i := range MaxNodes {
				d.Nodes = append(d.Nodes, Node{ID: "x" + string(rune('a'+i%26)) + strings.Repeat("z", i/26), Body: &EndNode{}})
			}
		}, e, "", "nodes", "at most 500 nodes"},
		{"too many triggers", func(t *testing.T, d *Document) {
			for range MaxTriggers {
				d.Triggers = append(d.Triggers, Trigger{ID: "gs", Type: TriggerGetStarted})
			}
		}, e, "", "triggers", "at most 100 triggers"},
		{"duplicate node id", addNode(Node{ID: "end", Body: &EndNode{}}), e, "end", "id", "Two nodes have the ID “end”"},
		{"bad node id", addNode(Node{ID: "a b", Body: &EndNode{}}), e, "a b", "id", "use 1 to 64 letters"},
		{"node without body", addNode(Node{ID: "nb"}), e, "nb", "type", "has no type"},
		{"node with nil body pointer", addNode(Node{ID: "nb", Body: (*EndNode)(nil)}), e, "nb", "type", "has no type"},
		{"node with nil question", addNode(Node{ID: "nq", Body: (*QuestionNode)(nil)}), e, "nq", "type", "has no type"},
		{"node with nil message", addNode(Node{ID: "nm", Body: (*MessageNode)(nil)}), e, "nm", "type", "has no type"},
		{"long node name", addNode(Node{ID: "nn", Name: strings.Repeat("n", 101), Body: &EndNode{}}), e, "nn", "name", "longer than 100"},
		{"long text built in Go", func(t *testing.T, d *Document) {
			msg(t, d).QuickReplies[0].Payload = strings.Repeat("p", MaxTextLen+1)
		}, e, "msg", "quick_replies[0].payload", "longer than 2000"},
		{"dangling quick reply", func(t *testing.T, d *Document) { msg(t, d).QuickReplies[0].Next = "gone" }, e, "msg", "quick_replies[0].next", "jumps to “gone”"},
		{"dangling card button", func(t *testing.T, d *Document) { body[*MessageNode](t, *d, "cards").Cards[0].Buttons[0].Next = "gone" }, e, "cards", "cards[0].buttons[0].next", "does not exist"},
		{"dangling else", func(t *testing.T, d *Document) { body[*ConditionNode](t, *d, "cond").Else = "gone" }, e, "cond", "else", "does not exist"},
		{"dangling choice", func(t *testing.T, d *Document) { body[*QuestionNode](t, *d, "size").Choices[1].Next = "gone" }, e, "size", "choices[1].next", "does not exist"},
		{"dangling failure", func(t *testing.T, d *Document) { call(t, d).FailureNext = "gone" }, e, "call", "failure_next", "does not exist"},
		{"dangling randomizer", func(t *testing.T, d *Document) { body[*RandomizerNode](t, *d, "rand").Branches[0].Next = "gone" }, e, "rand", "branches[0].next", "does not exist"},
		{"unreachable", addNode(Node{ID: "orphan", Body: &EndNode{}}), w, "orphan", "", "can never be reached"},
		{"loop without waiting", func(t *testing.T, d *Document) { body[*ActionNode](t, *d, "act").Next = "msg" }, e, "msg", "", "Nodes “Hello”, “cond” and “act” form a loop that never waits"},
		{"self loop", func(t *testing.T, d *Document) { body[*ConditionNode](t, *d, "cond").Else = "cond" }, e, "cond", "", "jumps back to itself"},
		{"loop through http", func(t *testing.T, d *Document) { call(t, d).FailureNext = "call" }, e, "call", "", "jumps back to itself"},

		// Triggers.
		{"duplicate trigger id", func(t *testing.T, d *Document) {
			d.Triggers = append(d.Triggers, Trigger{ID: "kw", Type: TriggerRef, Ref: "x"})
		}, e, "kw", "id", "Two triggers have the ID “kw”"},
		{"bad trigger id", func(t *testing.T, d *Document) {
			d.Triggers = append(d.Triggers, Trigger{ID: "", Type: TriggerRef, Ref: "x"})
		}, e, "", "id", "A trigger has the ID “”"},
		{"unknown trigger type", func(t *testing.T, d *Document) { trig(t, d, "pl").Type = "story" }, e, "pl", "type", "unknown type “story”"},
		{"member of another trigger type", func(t *testing.T, d *Document) { trig(t, d, "pl").Keywords = []string{"x"} }, e, "pl", "keywords", "does not use “keywords”"},
		{"unknown channel", func(t *testing.T, d *Document) { trig(t, d, "kw").Channels = []string{"telegram"} }, e, "kw", "channels[0]", "unknown channel “telegram”"},
		{"channel twice", func(t *testing.T, d *Document) { trig(t, d, "kw").Channels = []string{"messenger", "messenger"} }, w, "kw", "channels[1]", "twice"},
		{"priority range", func(t *testing.T, d *Document) { trig(t, d, "kw").Priority = 1001 }, e, "kw", "priority", "from -1000 to 1000"},
		{"no keywords", func(t *testing.T, d *Document) { trig(t, d, "kw").Keywords = nil }, e, "kw", "keywords", "no keywords"},
		{"no mode", func(t *testing.T, d *Document) { trig(t, d, "kw").Mode = "" }, e, "kw", "mode", "needs a mode"},
		{"unknown mode", func(t *testing.T, d *Document) { trig(t, d, "kw").Mode = "fuzzy" }, e, "kw", "mode", "needs a mode"},
		{"empty keyword", func(t *testing.T, d *Document) { trig(t, d, "kw").Keywords[1] = "  " }, e, "kw", "keywords[1]", "empty keyword"},
		{"invalid keyword text", func(t *testing.T, d *Document) { trig(t, d, "kw").Keywords[0] = "\xff" }, e, "kw", "keywords[0]", "not valid text"},
		{"bad regex", func(t *testing.T, d *Document) { trig(t, d, "rx").Keywords[0] = "(price" }, e, "rx", "keywords[0]", "“(price”, which is not a valid pattern: missing closing )"},
		{"backreference is not RE2", func(t *testing.T, d *Document) { trig(t, d, "rx").Keywords[0] = `(a)\1` }, e, "rx", "keywords[0]", "not a valid pattern"},
		{"long regex", func(t *testing.T, d *Document) { trig(t, d, "rx").Keywords[0] = strings.Repeat("a", 501) }, e, "rx", "keywords[0]", "longer than 500"},
		{"too many keywords", func(t *testing.T, d *Document) { trig(t, d, "kw").Keywords = make([]string, MaxKeywords+1) }, e, "kw", "keywords", "at most 100"},
		{"too many exclusions", func(t *testing.T, d *Document) { trig(t, d, "kw").Exclude = make([]string, MaxKeywords+1) }, e, "kw", "exclude", "at most 100"},
		{"empty exclusion", func(t *testing.T, d *Document) { trig(t, d, "kw").Exclude[0] = "" }, e, "kw", "exclude[0]", "empty keyword"},
		{"comment without mode", func(t *testing.T, d *Document) { trig(t, d, "cm").Mode = "" }, e, "cm", "mode", "needs a mode"},
		{"empty post id", func(t *testing.T, d *Document) { trig(t, d, "cm").PostIDs = []string{""} }, e, "cm", "post_ids[0]", "empty post ID"},
		{"no payload", func(t *testing.T, d *Document) { trig(t, d, "pl").Payload = "" }, e, "pl", "payload", "no payload"},
		{"long payload", func(t *testing.T, d *Document) { trig(t, d, "pl").Payload = strings.Repeat("p", 1001) }, e, "pl", "payload", "longer than 1000 bytes"},
		{"same payload twice", func(t *testing.T, d *Document) {
			d.Triggers = append(d.Triggers, Trigger{ID: "pl2", Type: TriggerPayload, Payload: "GO"})
		}, w, "pl2", "payload", "same as trigger “pl”"},
		{"same payload on other channels", func(t *testing.T, d *Document) {
			d.Triggers = append(d.Triggers, Trigger{ID: "pl2", Type: TriggerPayload, Payload: "GO", Channels: []string{"whatsapp"}})
		}, "", "", "", ""},
		{"bad ref", func(t *testing.T, d *Document) { trig(t, d, "rf").Ref = "summer promo" }, e, "rf", "ref", "letters, digits, -, _ or ="},
		{"no ref", func(t *testing.T, d *Document) { trig(t, d, "rf").Ref = "" }, e, "rf", "ref", "letters, digits"},
		{"same ref twice", func(t *testing.T, d *Document) {
			d.Triggers = append(d.Triggers, Trigger{ID: "rf2", Type: TriggerRef, Ref: "summer-promo"})
		}, w, "rf2", "ref", "same as trigger “rf”"},
		{"bad cooldown", func(t *testing.T, d *Document) { trig(t, d, "df").Cooldown = "one day" }, e, "df", "cooldown", "cooldown “one day”"},
		{"two defaults", func(t *testing.T, d *Document) {
			d.Triggers = append(d.Triggers, Trigger{ID: "df2", Type: TriggerDefault})
		}, w, "df2", "type", "same as trigger “df”"},
		{"two get started", func(t *testing.T, d *Document) {
			d.Triggers = append(d.Triggers, Trigger{ID: "gs2", Type: TriggerGetStarted})
		}, w, "gs2", "type", "only the one with the higher priority"},

		// Message.
		{"sends nothing", addNode(Node{ID: "empty", Body: &MessageNode{}}), e, "empty", "text", "sends nothing"},
		{"too many quick replies", func(t *testing.T, d *Document) {
			m := msg(t, d)
			for range 13 {
				m.QuickReplies = append(m.QuickReplies, QuickReply{Title: "x"})
			}
		}, e, "msg", "quick_replies", "at most 13"},
		{"quick reply without title", func(t *testing.T, d *Document) { msg(t, d).QuickReplies[0].Title = " " }, e, "msg", "quick_replies[0].title", "without a title"},
		{"long quick reply title", func(t *testing.T, d *Document) { msg(t, d).QuickReplies[0].Title = strings.Repeat("ក", 21) }, w, "msg", "quick_replies[0].title", "may cut it"},
		{"long quick reply payload", func(t *testing.T, d *Document) { msg(t, d).QuickReplies[0].Payload = strings.Repeat("p", 1001) }, e, "msg", "quick_replies[0].payload", "longer than 1000 bytes"},
		{"buttons and cards", func(t *testing.T, d *Document) { msg(t, d).Cards = []Card{{Title: "c"}} }, e, "msg", "buttons", "both buttons and cards"},
		{"buttons without text", func(t *testing.T, d *Document) { msg(t, d).Text = "" }, e, "msg", "buttons", "no text"},
		{"too many buttons", func(t *testing.T, d *Document) {
			m := msg(t, d)
			m.Buttons = append(m.Buttons, m.Buttons...)
		}, e, "msg", "buttons", "at most 3"},
		{"unknown button type", func(t *testing.T, d *Document) { msg(t, d).Buttons[0].Type = "call" }, e, "msg", "buttons[0].type", "unknown type “call”"},
		{"postback with url", func(t *testing.T, d *Document) { msg(t, d).Buttons[0].URL = "https://x.example" }, e, "msg", "buttons[0].url", "postback button with a URL"},
		{"url button with next", func(t *testing.T, d *Document) { msg(t, d).Buttons[1].Next = "ask" }, e, "msg", "buttons[1]", "only postback buttons lead on"},
		{"url button without url", func(t *testing.T, d *Document) { msg(t, d).Buttons[1].URL = "" }, e, "msg", "buttons[1].url", "no address"},
		{"relative url", func(t *testing.T, d *Document) { msg(t, d).Buttons[1].URL = "/path" }, e, "msg", "buttons[1].url", "not a full address"},
		{"ftp url", func(t *testing.T, d *Document) { msg(t, d).Buttons[1].URL = "ftp://example.com/x" }, e, "msg", "buttons[1].url", "only http and https"},
		{"javascript url", func(t *testing.T, d *Document) { msg(t, d).Buttons[1].URL = "javascript:alert(1)" }, e, "msg", "buttons[1].url", "not a full address"},
		{"host from variable", func(t *testing.T, d *Document) {
			msg(t, d).Buttons[1].URL = "https://{{contact.field.ext_id}}.example.com/"
		}, e, "msg", "buttons[1].url", "host of its address from a variable"},
		{"credentials in url", func(t *testing.T, d *Document) { msg(t, d).Buttons[1].URL = "https://user:pw@example.com/" }, e, "msg", "buttons[1].url", "secret header"},
		{"too many cards", func(t *testing.T, d *Document) {
			m := body[*MessageNode](t, *d, "cards")
			for range 10 {
				m.Cards = append(m.Cards, Card{Title: "c"})
			}
		}, e, "cards", "cards", "at most 10"},
		{"card without title", func(t *testing.T, d *Document) { body[*MessageNode](t, *d, "cards").Cards[0].Title = "" }, e, "cards", "cards[0].title", "without a title"},
		{"bad card image", func(t *testing.T, d *Document) { body[*MessageNode](t, *d, "cards").Cards[0].ImageURL = "img.png" }, e, "cards", "cards[0].image_url", "not a full address"},
		{"too many card buttons", func(t *testing.T, d *Document) {
			c := &body[*MessageNode](t, *d, "cards").Cards[0]
			c.Buttons = append(c.Buttons, c.Buttons[0], c.Buttons[0], c.Buttons[0])
		}, e, "cards", "cards[0].buttons", "at most 3"},
		{"bad attachment type", func(t *testing.T, d *Document) { msg(t, d).Attachment.Type = "sticker" }, e, "msg", "attachment.type", "unknown type “sticker”"},
		{"bad attachment url", func(t *testing.T, d *Document) { msg(t, d).Attachment.URL = "" }, e, "msg", "attachment.url", "no address"},
		{"unknown variable", func(t *testing.T, d *Document) { msg(t, d).Text = "Hi {{contact.age}}" }, w, "msg", "text", "{{contact.age}}, which is not a variable"},
		{"unknown field variable", func(t *testing.T, d *Document) { msg(t, d).Text = "Hi {{contact.field.shoe}}" }, w, "msg", "text", "no custom field “shoe”"},
		{"flow variable never set", func(t *testing.T, d *Document) { msg(t, d).Text = "Hi {{flow.var.nope}}" }, w, "msg", "text", "sets the variable “nope”"},
		{"broken braces", func(t *testing.T, d *Document) { msg(t, d).Text = "Hi {{first name}}" }, w, "msg", "text", "sent as written"},

		// Question.
		{"question without text", func(t *testing.T, d *Document) { ask(t, d).Text = "" }, e, "ask", "text", "asks nothing"},
		{"unknown answer type", func(t *testing.T, d *Document) { ask(t, d).Answer = "color" }, e, "ask", "answer", "unknown answer type “color”"},
		{"choice without choices", func(t *testing.T, d *Document) { body[*QuestionNode](t, *d, "size").Choices = nil }, e, "size", "choices", "without choices"},
		{"too many choices", func(t *testing.T, d *Document) {
			q := body[*QuestionNode](t, *d, "size")
			for i := range 12 {
				q.Choices = append(q.Choices, Choice{Title: "c" + string(rune('a'+i))})
			}
		}, e, "size", "choices", "at most 13"},
		{"choices on email", func(t *testing.T, d *Document) { ask(t, d).Choices = []Choice{{Title: "x"}} }, e, "ask", "choices", "only choice questions"},
		{"same choice twice", func(t *testing.T, d *Document) { body[*QuestionNode](t, *d, "size").Choices[1].Value = "S" }, e, "size", "choices[1]", "both save “S”"},
		{"choice without title", func(t *testing.T, d *Document) { body[*QuestionNode](t, *d, "size").Choices[0].Title = "" }, e, "size", "choices[0].title", "without a title"},
		{"region on email", func(t *testing.T, d *Document) { ask(t, d).Region = "KH" }, e, "ask", "region", "only phone questions"},
		{"unknown region", func(t *testing.T, d *Document) { body[*QuestionNode](t, *d, "phone").Region = "XX" }, e, "phone", "region", "two-letter country code"},
		{"lower-case region", func(t *testing.T, d *Document) { body[*QuestionNode](t, *d, "phone").Region = "kh" }, e, "phone", "region", "in capitals"},
		{"date order on email", func(t *testing.T, d *Document) { ask(t, d).DateOrder = DateDMY }, e, "ask", "date_order", "only date questions"},
		{"bad date order", func(t *testing.T, d *Document) { body[*QuestionNode](t, *d, "day").DateOrder = "ymd" }, e, "day", "date_order", "use dmy or mdy"},
		{"min on email", func(t *testing.T, d *Document) { ask(t, d).Max = new(float64) }, e, "ask", "min", "only number questions"},
		{"min above max", func(t *testing.T, d *Document) { *body[*QuestionNode](t, *d, "num").Min = 11 }, e, "num", "min", "minimum above its maximum"},
		{"negative attempts", func(t *testing.T, d *Document) { ask(t, d).MaxAttempts = -1 }, e, "ask", "max_attempts", "use 1 to 10"},
		{"too many attempts", func(t *testing.T, d *Document) { ask(t, d).MaxAttempts = 11 }, e, "ask", "max_attempts", "use 1 to 10"},
		{"unknown field", func(t *testing.T, d *Document) { ask(t, d).Field = "emial" }, e, "ask", "field", "custom field “emial”, which does not exist"},
		{"invalid field key", func(t *testing.T, d *Document) { ask(t, d).Field = "e mail" }, e, "ask", "field", "not a valid field key"},
		{"answer type does not fit field", func(t *testing.T, d *Document) { ask(t, d).Field = "age" }, e, "ask", "field", "saves its email answer to the custom field “age”, which holds number values"},
		{"bad var", func(t *testing.T, d *Document) { ask(t, d).Var = "my var" }, e, "ask", "var", "variable “my var”"},
		{"bad timeout", func(t *testing.T, d *Document) { ask(t, d).Timeout = "soon" }, e, "ask", "timeout", "timeout “soon”"},
		{"short timeout", func(t *testing.T, d *Document) { ask(t, d).Timeout = "30s" }, e, "ask", "timeout", "1 minute to 30 days"},
		{"long timeout", func(t *testing.T, d *Document) { ask(t, d).Timeout = "31d" }, e, "ask", "timeout", "1 minute to 30 days"},
		{"timeout branch without timeout", func(t *testing.T, d *Document) { ask(t, d).Timeout = "" }, e, "ask", "timeout_next", "no timeout"},

		// Condition.
		{"no branches", func(t *testing.T, d *Document) { body[*ConditionNode](t, *d, "cond").Branches = nil }, e, "cond", "branches", "1 to 20 branches"},
		{"bad match", func(t *testing.T, d *Document) { body[*ConditionNode](t, *d, "cond").Branches[0].Match = "some" }, e, "cond", "branches[0].match", "use all or any"},
		{"no rules", func(t *testing.T, d *Document) { body[*ConditionNode](t, *d, "cond").Branches[1].Rules = nil }, e, "cond", "branches[1].rules", "1 to 20 rules"},
		{"unknown subject", func(t *testing.T, d *Document) { rule(t, d, 0).Subject = "weather" }, e, "cond", "branches[0].rules[0].subject", "rule about “weather”"},
		{"member of another subject", func(t *testing.T, d *Document) { rule(t, d, 2).Key = "x" }, e, "cond", "branches[0].rules[2].key", "does not use “key”"},
		{"operator of another subject", func(t *testing.T, d *Document) { rule(t, d, 0).Op = OpEq }, e, "cond", "branches[0].rules[0].op", "use exists, not_exists"},
		{"gt on contact", func(t *testing.T, d *Document) { rule(t, d, 3).Op = OpGt }, e, "cond", "branches[0].rules[3].op", "operator “gt”"},
		{"missing value", func(t *testing.T, d *Document) { rule(t, d, 1).Value = "" }, e, "cond", "branches[0].rules[1].value", "without a value"},
		{"value with exists", func(t *testing.T, d *Document) { body[*ConditionNode](t, *d, "cond").Branches[1].Rules[0].Value = "x" }, e, "cond", "branches[1].rules[0].value", "gives one"},
		{"unknown tag", func(t *testing.T, d *Document) { rule(t, d, 0).Key = "gold" }, w, "cond", "branches[0].rules[0].key", "tag “gold”, which no contact has yet"},
		{"bad tag", func(t *testing.T, d *Document) { rule(t, d, 0).Key = " vip" }, e, "cond", "branches[0].rules[0].key", "without spaces at the ends"},
		{"unknown field in rule", func(t *testing.T, d *Document) { rule(t, d, 1).Key = "height" }, e, "cond", "branches[0].rules[1].key", "“height”, which does not exist"},
		{"gt on text field", func(t *testing.T, d *Document) { rule(t, d, 1).Key = "ext_id" }, e, "cond", "branches[0].rules[1].op", "only number and date fields"},
		{"gt with text on number field", func(t *testing.T, d *Document) { rule(t, d, 1).Value = "adult" }, e, "cond", "branches[0].rules[1].value", "not a number"},
		{"gt with number on date field", func(t *testing.T, d *Document) { rule(t, d, 1).Key = "birthday" }, e, "cond", "branches[0].rules[1].value", "not a date like 2026-12-31"},
		{"gt with date on date field", func(t *testing.T, d *Document) { rule(t, d, 1).Key, rule(t, d, 1).Value = "birthday", "2000-01-31" }, "", "", "", ""},
		{"gt with text on untyped field", func(t *testing.T, d *Document) { rule(t, d, 1).Key, rule(t, d, 1).Value = "note", "abc" }, e, "cond", "branches[0].rules[1].value", "neither a number nor a date"},
		{"bad contact attribute", func(t *testing.T, d *Document) { rule(t, d, 3).Key = "age" }, e, "cond", "branches[0].rules[3].key", "use first_name, last_name or locale"},
		{"unknown channel in rule", func(t *testing.T, d *Document) { rule(t, d, 2).Value = "sms" }, e, "cond", "branches[0].rules[2].value", "unknown channel “sms”"},
		{"no hours", func(t *testing.T, d *Document) { rule(t, d, 4).Hours = nil }, e, "cond", "branches[0].rules[4].hours", "gives none"},
		{"bad time zone", func(t *testing.T, d *Document) { rule(t, d, 4).Hours.TimeZone = "Asia/Phnom Penh" }, e, "cond", "branches[0].rules[4].hours.time_zone", "unknown time zone"},
		{"local time zone", func(t *testing.T, d *Document) { rule(t, d, 4).Hours.TimeZone = "Local" }, e, "cond", "branches[0].rules[4].hours.time_zone", "unknown time zone"},
		{"no days", func(t *testing.T, d *Document) { rule(t, d, 4).Hours.Weekly[0].Days = nil }, e, "cond", "branches[0].rules[4].hours.weekly[0].days", "no day"},
		{"bad day", func(t *testing.T, d *Document) { rule(t, d, 4).Hours.Weekly[0].Days[1] = "Tuesday" }, e, "cond", "branches[0].rules[4].hours.weekly[0].days[1]", "day “Tuesday”"},
		{"bad from", func(t *testing.T, d *Document) { rule(t, d, 4).Hours.Weekly[0].From = "8:00" }, e, "cond", "branches[0].rules[4].hours.weekly[0].from", "HH:MM"},
		{"bad to", func(t *testing.T, d *Document) { rule(t, d, 4).Hours.Weekly[0].To = "24:30" }, e, "cond", "branches[0].rules[4].hours.weekly[0].to", "00:00 to 24:00"},
		{"closes before it opens", func(t *testing.T, d *Document) { rule(t, d, 4).Hours.Weekly[0].To = "02:00" }, e, "cond", "branches[0].rules[4].hours.weekly[0].to", "past midnight into two intervals"},

		// Action.
		{"no actions", func(t *testing.T, d *Document) { body[*ActionNode](t, *d, "act").Actions = nil }, e, "act", "actions", "1 to 20 actions"},
		{"unknown action", func(t *testing.T, d *Document) { act(t, d, 0).Type = "delete_contact" }, e, "act", "actions[0].type", "unknown action “delete_contact”"},
		{"member of another action", func(t *testing.T, d *Document) { act(t, d, 0).Team = "sales" }, e, "act", "actions[0].team", "action add_tag, which does not use “team”"},
		{"add no tag", func(t *testing.T, d *Document) { act(t, d, 0).Tag = "" }, e, "act", "actions[0].tag", "does not name a tag"},
		{"tag with spaces at ends", func(t *testing.T, d *Document) { act(t, d, 0).Tag = "new " }, e, "act", "actions[0].tag", "without spaces"},
		{"remove unknown tag", func(t *testing.T, d *Document) { act(t, d, 1).Tag = "gold" }, w, "act", "actions[1].tag", "removes the tag “gold”"},
		{"set unknown field", func(t *testing.T, d *Document) { act(t, d, 2).Field = "height" }, e, "act", "actions[2].field", "does not exist"},
		{"set field to nothing", func(t *testing.T, d *Document) { act(t, d, 2).Value = "" }, e, "act", "actions[2].value", "use clear_field"},
		{"set number field to text", func(t *testing.T, d *Document) { act(t, d, 2).Value = "twenty" }, e, "act", "actions[2].value", "which is not a number"},
		{"set email field to text", func(t *testing.T, d *Document) { act(t, d, 2).Field, act(t, d, 2).Value = "email", "nobody" }, e, "act", "actions[2].value", "not an e-mail address"},
		{"set date field to other format", func(t *testing.T, d *Document) { act(t, d, 2).Field, act(t, d, 2).Value = "birthday", "31/12/2000" }, e, "act", "actions[2].value", "not a date like 2026-12-31"},
		{"set phone field to local number", func(t *testing.T, d *Document) { act(t, d, 2).Field, act(t, d, 2).Value = "phone", "012345678" }, e, "act", "actions[2].value", "with its country code"},
		{"clear no field", func(t *testing.T, d *Document) { act(t, d, 3).Field = "" }, e, "act", "actions[3].field", "does not name a custom field"},
		{"set no stage", func(t *testing.T, d *Document) { act(t, d, 4).Stage = "" }, e, "act", "actions[4].stage", "no lead stage"},
		{"set unknown stage", func(t *testing.T, d *Document) { act(t, d, 4).Stage = "won" }, e, "act", "actions[4].stage", "“won”, which does not exist"},
		{"bad topic", func(t *testing.T, d *Document) { act(t, d, 5).Topic = "big news" }, e, "act", "actions[5].topic", "topic “big news”"},
		{"notify unknown team", func(t *testing.T, d *Document) { act(t, d, 7).Team = "nobody" }, e, "act", "actions[7].team", "team “nobody”"},

		// Delay.
		{"no duration", func(t *testing.T, d *Document) { body[*DelayNode](t, *d, "wait").Duration = "" }, e, "wait", "duration", "how long to wait"},
		{"bad duration", func(t *testing.T, d *Document) { body[*DelayNode](t, *d, "wait").Duration = "10 minutes" }, e, "wait", "duration", "like 30s, 15m"},
		{"zero duration", func(t *testing.T, d *Document) { body[*DelayNode](t, *d, "wait").Duration = "0s" }, e, "wait", "duration", "1 second to 90 days"},
		{"long delay", func(t *testing.T, d *Document) { body[*DelayNode](t, *d, "wait").Duration = "91d" }, e, "wait", "duration", "1 second to 90 days"},

		// HTTP.
		{"bad method", func(t *testing.T, d *Document) { call(t, d).Method = "post" }, e, "call", "method", "method “post”"},
		{"bad http url", func(t *testing.T, d *Document) { call(t, d).URL = "api.example.com/x" }, e, "call", "url", "not a full address"},
		{"http host from variable", func(t *testing.T, d *Document) { call(t, d).URL = "https://api.example.com@{{flow.var.mail}}/x" }, e, "call", "url", "host of its address from a variable"},
		{"bad header name", func(t *testing.T, d *Document) { call(t, d).Headers[1].Name = "Bad Name" }, e, "call", "headers[1].name", "not valid"},
		{"reserved header", func(t *testing.T, d *Document) { call(t, d).Headers[1].Name = "Host" }, e, "call", "headers[1].name", "Parley sets itself"},
		{"proxy header", func(t *testing.T, d *Document) { call(t, d).Headers[1].Name = "Proxy-Authorization" }, e, "call", "headers[1].name", "Parley sets itself"},
		{"header twice", func(t *testing.T, d *Document) { call(t, d).Headers[1].Name = "authorization" }, e, "call", "headers[1].name", "twice"},
		{"header line break", func(t *testing.T, d *Document) { call(t, d).Headers[1].Value = "a\r\nX-Evil: 1" }, e, "call", "headers[1].value", "line break"},
		{"secret without value", func(t *testing.T, d *Document) { call(t, d).Headers[0].Value = "" }, e, "call", "headers[0].value", "without its value"},
		{"body with GET", func(t *testing.T, d *Document) { call(t, d).Method = "GET" }, e, "call", "body", "only POST, PUT and PATCH"},
		{"body not JSON", func(t *testing.T, d *Document) { call(t, d).Body = json.RawMessage(`{"a":`) }, e, "call", "body", "not valid JSON"},
		{"body too large", func(t *testing.T, d *Document) {
			call(t, d).Body = json.RawMessage(`"` + strings.Repeat("x", MaxBodyBytes) + `"`)
		}, e, "call", "body", "larger than 16 KiB"},
		{"variable in body", func(t *testing.T, d *Document) { call(t, d).Body = json.RawMessage(`{"a":"{{contact.nope}}"}`) }, w, "call", "body", "{{contact.nope}}"},
		{"long http timeout", func(t *testing.T, d *Document) { call(t, d).Timeout = "31s" }, e, "call", "timeout", "at most 30s"},
		{"bad http timeout", func(t *testing.T, d *Document) { call(t, d).Timeout = "-5s" }, e, "call", "timeout", "cannot have a sign"},
		{"bad map path", func(t *testing.T, d *Document) { call(t, d).Map[0].Path = "data..id" }, e, "call", "map[0].path", "separated by dots"},
		{"jsonpath syntax", func(t *testing.T, d *Document) { call(t, d).Map[0].Path = "$.data[0]" }, e, "call", "map[0].path", "separated by dots"},
		{"map saves nowhere", func(t *testing.T, d *Document) { call(t, d).Map[0].Field, call(t, d).Map[0].Var = "", "" }, e, "call", "map[0]", "saves it nowhere"},
		{"map unknown field", func(t *testing.T, d *Document) { call(t, d).Map[0].Field = "nope" }, e, "call", "map[0].field", "does not exist"},
		{"map bad var", func(t *testing.T, d *Document) { call(t, d).Map[0].Var = "a.b" }, e, "call", "map[0].var", "variable “a.b”"},

		// Handoff, AI answer, goto, randomizer.
		{"handoff unknown team", func(t *testing.T, d *Document) { body[*HandoffNode](t, *d, "human").Team = "nobody" }, e, "human", "team", "team “nobody”, which does not exist"},
		{"ai unknown team", func(t *testing.T, d *Document) { body[*AIAnswerNode](t, *d, "ai").Team = "nobody" }, e, "ai", "team", "does not exist"},
		{"goto nowhere", func(t *testing.T, d *Document) { body[*GotoFlowNode](t, *d, "goto").Flow = "" }, e, "goto", "flow", "which flow"},
		{"goto bad id", func(t *testing.T, d *Document) { body[*GotoFlowNode](t, *d, "goto").Flow = "a/b" }, e, "goto", "flow", "not a valid flow ID"},
		{"goto unknown flow", func(t *testing.T, d *Document) { body[*GotoFlowNode](t, *d, "goto").Flow = "gone" }, e, "goto", "flow", "flow “gone”, which does not exist"},
		{"randomizer one branch", func(t *testing.T, d *Document) {
			r := body[*RandomizerNode](t, *d, "rand")
			r.Branches = r.Branches[:1]
		}, e, "rand", "branches", "2 to 10 branches"},
		{"zero weight", func(t *testing.T, d *Document) { body[*RandomizerNode](t, *d, "rand").Branches[1].Weight = 0 }, e, "rand", "branches[1].weight", "weight 0"},
		{"negative weight", func(t *testing.T, d *Document) { body[*RandomizerNode](t, *d, "rand").Branches[1].Weight = -2 }, e, "rand", "branches[1].weight", "from 1 to 10000"},

		// Loops that wait are fine (they may leave other nodes unreachable).
		{"loop through a question", func(t *testing.T, d *Document) { ask(t, d).Next = "msg" }, noErrors, "", "", ""},
		{"loop through a delay", func(t *testing.T, d *Document) { body[*DelayNode](t, *d, "wait").Next = "msg" }, noErrors, "", "", ""},
		{"loop through a tap", func(t *testing.T, d *Document) { msg(t, d).QuickReplies[0].Next = "msg" }, "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := base(t)
			tc.mut(t, &d)
			ps := Validate(d, baseKnown())
			if tc.sev == noErrors && HasErrors(ps) {
				t.Fatalf("unexpected errors:\n%s", dump(ps))
			}
			if tc.sev == noErrors {
				return
			}
			if tc.sev == "" {
				if len(ps) != 0 {
					t.Fatalf("unexpected problems: %+v", ps)
				}
				return
			}
			for _, p := range ps {
				if p.Severity == tc.sev && (p.NodeID == tc.id || p.TriggerID == tc.id) && p.Field == tc.field && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("no %s at %q %q containing %q; got:\n%s", tc.sev, tc.id, tc.field, tc.msg, dump(ps))
		})
	}
}

// References are checked against Known only where Known says what exists.
func TestValidateUnknownsUnchecked(t *testing.T) {
	d := base(t)
	body[*QuestionNode](t, d, "ask").Field = "anything"
	body[*GotoFlowNode](t, d, "goto").Flow = "any-flow"
	body[*HandoffNode](t, d, "human").Team = "any-team"
	if ps := Validate(d, Known{}); len(ps) != 0 {
		t.Fatalf("problems with nothing known: %s", dump(ps))
	}
	// Empty maps say nothing exists.
	none := Known{Fields: map[string]FieldType{}, Tags: map[string]bool{}, Flows: map[string]bool{}, Teams: map[string]bool{}, Stages: map[string]bool{}}
	ps := Validate(d, none)
	for _, want := range []struct{ id, field string }{{"ask", "field"}, {"goto", "flow"}, {"human", "team"}, {"act", "actions[4].stage"}} {
		if !hasProblem(ps, SeverityError, want.id, want.field) {
			t.Errorf("no error at %s %s with nothing existing:\n%s", want.id, want.field, dump(ps))
		}
	}
	// add_tag creates tags: never a problem.
	if hasProblem(ps, SeverityWarning, "act", "actions[0].tag") || hasProblem(ps, SeverityError, "act", "actions[0].tag") {
		t.Error("add_tag of a new tag was reported")
	}
}

// dump formats problems for failure messages.
func dump(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + string(p.Severity) + " " + p.NodeID + p.TriggerID + " " + p.Field + ": " + p.Message + "\n")
	}
	return b.String()
}
