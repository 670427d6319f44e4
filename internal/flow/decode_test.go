package flow

import (
	"errors"
	"strings"
	"testing"
)

// doc wraps nodes and triggers (JSON fragments) in a format-1 document.
func doc(triggers, nodes string) string {
	return `{"format": 1, "name": "T", "triggers": [` + triggers + `], "start": "a", "nodes": [` + nodes + `]}`
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		node, trg string // expected NodeID / TriggerID
		field     string
		msg       string
		sentinel  error
	}{
		{name: "empty", in: ``, msg: "empty"},
		{name: "not JSON", in: "{\n \"format\": 1,\n \"nodes\": [}", msg: "not valid JSON at line 3, column 12"},
		{name: "array", in: `[]`, msg: "expected a flow document"},
		{name: "null", in: `null`, msg: "expected a flow document"},
		{name: "no format", in: `{"nodes": []}`, field: "format", msg: "missing", sentinel: ErrFormat},
		{name: "format text", in: `{"format": "1"}`, field: "format", msg: "whole number", sentinel: ErrFormat},
		{name: "format zero", in: `{"format": 0}`, field: "format", msg: "whole number", sentinel: ErrFormat},
		{name: "format fraction", in: `{"format": 1.5}`, field: "format", sentinel: ErrFormat},
		{name: "future format", in: `{"format": 2, "wholly": "new"}`, field: "format", msg: "this flow uses format 2, written by a newer Parley", sentinel: ErrFormat},
		{name: "unknown top field", in: `{"format": 1, "nodez": []}`, field: "nodez", msg: "unknown field; allowed here: format, name, triggers, start, nodes"},
		{name: "case-variant top field", in: `{"format": 1, "Nodes": []}`, field: "Nodes", msg: "unknown field"},
		{name: "name not text", in: `{"format": 1, "name": 5}`, field: "name", msg: "expected text"},
		{name: "nodes not list", in: `{"format": 1, "nodes": {}}`, field: "nodes", msg: "expected a list"},
		{name: "node not object", in: doc(``, `"a"`), field: "nodes[0]", msg: "expected a node"},
		{name: "node without id", in: doc(``, `{"type": "end"}`), field: "nodes[0].id", msg: "missing"},
		{name: "node id not text", in: doc(``, `{"id": 7, "type": "end"}`), field: "nodes[0].id", msg: "expected text"},
		{name: "node id bad chars", in: doc(``, `{"id": "a b", "type": "end"}`), field: "nodes[0].id", msg: "not a valid ID"},
		{name: "node id too long", in: doc(``, `{"id": "`+strings.Repeat("x", 65)+`", "type": "end"}`), field: "nodes[0].id", msg: "1 to 64"},
		{name: "node without type", in: doc(``, `{"id": "a"}`), node: "a", field: "type", msg: "missing; use one of message, question"},
		{name: "unknown node type", in: doc(``, `{"id": "a", "type": "mesage"}`), node: "a", field: "type", msg: "unknown node type “mesage”"},
		{name: "type not text", in: doc(``, `{"id": "a", "type": 3}`), node: "a", field: "type", msg: "expected text"},
		{name: "unknown node field", in: doc(``, `{"id": "a", "type": "message", "text": "x", "txt": "y"}`), node: "a", field: "txt", msg: "unknown field for message nodes; allowed: attachment, buttons, cards, id, name, next, position, quick_replies, text, type"},
		{name: "field of another node type", in: doc(``, `{"id": "a", "type": "end", "next": "b"}`), node: "a", field: "next", msg: "unknown field for end nodes"},
		{name: "case-variant node field", in: doc(``, `{"id": "a", "type": "message", "Text": "x"}`), node: "a", field: "Text", msg: "unknown field"},
		{name: "nested unknown field", in: doc(``, `{"id": "a", "type": "message", "text": "x", "quick_replies": [{"title": "t", "titel": "u"}]}`), node: "a", field: "quick_replies[0].titel", msg: "unknown field; allowed here: next, payload, title"},
		{name: "wrong kind nested", in: doc(``, `{"id": "a", "type": "message", "quick_replies": {"title": "t"}}`), node: "a", field: "quick_replies", msg: "expected a list"},
		{name: "int with fraction", in: doc(``, `{"id": "a", "type": "randomizer", "branches": [{"weight": 1.5}]}`), node: "a", field: "branches[0].weight", msg: "whole number"},
		{name: "int as text", in: doc(``, `{"id": "a", "type": "question", "max_attempts": "3"}`), node: "a", field: "max_attempts", msg: "whole number"},
		{name: "float as text", in: doc(``, `{"id": "a", "type": "question", "min": "3"}`), node: "a", field: "min", msg: "expected a number"},
		{name: "bool as text", in: doc(``, `{"id": "a", "type": "delay", "cancel_on_reply": "yes"}`), node: "a", field: "cancel_on_reply", msg: "true or false"},
		{name: "position not object", in: doc(``, `{"id": "a", "type": "end", "position": [1, 2]}`), node: "a", field: "position", msg: "expected an object"},
		{name: "position unknown member", in: doc(``, `{"id": "a", "type": "end", "position": {"x": 1, "z": 2}}`), node: "a", field: "position.z", msg: "unknown field"},
		{name: "unknown action type", in: doc(``, `{"id": "a", "type": "action", "actions": [{"type": "add_tga", "tag": "x"}]}`), node: "a", field: "actions[0].type", msg: "unknown type “add_tga”; use one of add_tag"},
		{name: "action without type", in: doc(``, `{"id": "a", "type": "action", "actions": [{"tag": "x"}]}`), node: "a", field: "actions[0].type", msg: "missing"},
		{name: "action member of another action", in: doc(``, `{"id": "a", "type": "action", "actions": [{"type": "add_tag", "field": "x"}]}`), node: "a", field: "actions[0].field", msg: "unknown field; allowed here: tag, type"},
		{name: "rule member of another subject", in: doc(``, `{"id": "a", "type": "condition", "branches": [{"rules": [{"subject": "tag", "key": "x", "op": "exists", "value": "y"}]}]}`), node: "a", field: "branches[0].rules[0].value", msg: "unknown field"},
		{name: "unknown rule subject", in: doc(``, `{"id": "a", "type": "condition", "branches": [{"rules": [{"subject": "weather"}]}]}`), node: "a", field: "branches[0].rules[0].subject", msg: "unknown subject “weather”"},
		{name: "text too long", in: doc(``, `{"id": "a", "type": "message", "text": "`+strings.Repeat("ក", MaxTextLen+1)+`"}`), node: "a", field: "text", msg: "longer than 2000 characters", sentinel: ErrTooLarge},
		{name: "body too large", in: doc(``, `{"id": "a", "type": "http", "body": {"x": "`+strings.Repeat("y", MaxBodyBytes)+`"}}`), node: "a", field: "body", msg: "larger than 16 KiB", sentinel: ErrTooLarge},
		{name: "too many nodes", in: doc(``, strings.Repeat(`{"id": "a", "type": "end"},`, MaxNodes)+`{"id": "a", "type": "end"}`), field: "nodes", msg: "at most 500 nodes", sentinel: ErrTooLarge},
		{name: "too many triggers", in: doc(strings.Repeat(`{"id": "t", "type": "get_started"},`, MaxTriggers)+`{"id": "t", "type": "get_started"}`, ``), field: "triggers", msg: "at most 100 triggers", sentinel: ErrTooLarge},
		{name: "document too large", in: `{"format": 1, "name": "` + strings.Repeat(" ", MaxDocumentBytes) + `"}`, msg: "larger than 1 MiB", sentinel: ErrTooLarge},
		{name: "trigger without id", in: doc(`{"type": "get_started"}`, ``), field: "triggers[0].id", msg: "missing"},
		{name: "unknown trigger type", in: doc(`{"id": "t", "type": "keywrd"}`, ``), trg: "t", field: "type", msg: "unknown type “keywrd”; use one of keyword, payload"},
		{name: "trigger member of another type", in: doc(`{"id": "t", "type": "payload", "payload": "X", "keywords": ["x"]}`, ``), trg: "t", field: "keywords", msg: "unknown field; allowed here: channels, id, payload, priority, type"},
		{name: "trigger keywords not list", in: doc(`{"id": "t", "type": "keyword", "keywords": "x"}`, ``), trg: "t", field: "keywords", msg: "expected a list"},
		{name: "trigger priority overflow", in: doc(`{"id": "t", "type": "keyword", "priority": 1e40}`, ``), trg: "t", field: "priority", msg: "whole number"},
		{name: "keyword too long", in: doc(`{"id": "t", "type": "keyword", "keywords": ["`+strings.Repeat("k", MaxTextLen+1)+`"]}`, ``), trg: "t", field: "keywords[0]", msg: "longer than", sentinel: ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, want a *ParseError", err)
			}
			if pe.NodeID != tc.node || pe.TriggerID != tc.trg || pe.Field != tc.field {
				t.Errorf("at node %q trigger %q field %q, want %q %q %q (%v)", pe.NodeID, pe.TriggerID, pe.Field, tc.node, tc.trg, tc.field, err)
			}
			if !strings.Contains(pe.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", pe.Message, tc.msg)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v is not %v", err, tc.sentinel)
			}
			if tc.sentinel == nil && (errors.Is(err, ErrFormat) || errors.Is(err, ErrTooLarge)) {
				t.Errorf("error %v wraps a sentinel it should not", err)
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	_, err := Parse([]byte(doc(``, `{"id": "n1", "type": "message", "quick_replies": [{"titel": "x"}]}`)))
	want := "flow: node “n1”: quick_replies[0].titel: unknown field; allowed here: next, payload, title"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
}

// A shape Parse accepts may still be invalid: Parse checks only the shape,
// so drafts can be stored before they validate.
func TestParseAcceptsDrafts(t *testing.T) {
	for _, in := range []string{
		`{"format": 1}`,
		`{"format": 1, "name": null, "triggers": null, "start": null, "nodes": null}`,
		doc(``, `{"id": "a", "type": "message"}`),
		doc(`{"id": "t", "type": "keyword", "mode": "regex", "keywords": ["("]}`, `{"id": "a", "type": "message", "next": "nowhere"}`),
		doc(``, `{"id": "a", "type": "question", "text": null, "choices": []}`),
	} {
		if _, err := Parse([]byte(in)); err != nil {
			t.Errorf("Parse(%s) = %v", in, err)
		}
	}
}

func TestParseReadsEveryMember(t *testing.T) {
	d := base(t)
	if d.Name != "Base" || d.Start != "msg" || len(d.Triggers) != 8 || len(d.Nodes) != 16 {
		t.Fatalf("top level: %q %q %d triggers %d nodes", d.Name, d.Start, len(d.Triggers), len(d.Nodes))
	}
	kw := trig(t, &d, "kw")
	if kw.Type != TriggerKeyword || kw.Mode != ModeContains || kw.Keywords[1] != "តម្លៃ" || kw.Exclude[0] != "no" || kw.Channels[0] != "messenger" || kw.Priority != 5 {
		t.Errorf("keyword trigger: %+v", kw)
	}
	msg, _ := d.Find("msg")
	if msg.Name != "Hello" || *msg.Position != (Position{X: 1.5, Y: -2}) {
		t.Errorf("header: %+v", msg)
	}
	m := body[*MessageNode](t, d, "msg")
	if m.Text != "Hi {{contact.first_name|there}}" || m.QuickReplies[0].Next != "ask" || m.Buttons[1].URL == "" || m.Attachment.Type != AttachImage || m.Next != "cond" {
		t.Errorf("message: %+v", m)
	}
	q := body[*QuestionNode](t, d, "ask")
	if q.Answer != AnswerEmail || q.MaxAttempts != 2 || q.Timeout != "1h" || q.TimeoutNext != "end" || q.InvalidNext != "human" || q.Var != "mail" {
		t.Errorf("question: %+v", q)
	}
	h := body[*HTTPNode](t, d, "call")
	if !h.Headers[0].Secret || h.Map[0].Path != "data.items.0.id" || h.FailureNext != "size" {
		t.Errorf("http: %+v", h)
	}
	// The body is kept compact, numbers digit for digit, <>& escaped.
	if want := `{"a":"{{contact.first_name}}","n":12345678901234567890,"html":"\u003cb\u003e\u0026\u003c/b\u003e"}`; string(h.Body) != want {
		t.Errorf("body = %s, want %s", h.Body, want)
	}
	c := body[*ConditionNode](t, d, "cond")
	if r := c.Branches[0].Rules[4]; r.Hours.TimeZone != "Asia/Phnom_Penh" || r.Hours.Weekly[0].To != "17:00" {
		t.Errorf("business hours rule: %+v", r)
	}
	if a := body[*ActionNode](t, d, "act"); len(a.Actions) != 9 || a.Actions[7].Team != "sales" {
		t.Errorf("actions: %+v", a)
	}
	if _, ok := d.Find("nope"); ok {
		t.Error("Find found a node that does not exist")
	}
}
