package flow

import (
	"reflect"
	"testing"
	_ "time/tzdata" // time zones in tests even where the system has none
)

// baseJSON is a valid document that uses every node type, trigger type,
// rule subject and action type: tests mutate it to break one rule at a
// time.
const baseJSON = `{
 "format": 1, "name": "Base",
 "triggers": [
  {"id": "kw", "type": "keyword", "mode": "contains", "keywords": ["price", "តម្លៃ"], "exclude": ["no"], "channels": ["messenger"], "priority": 5},
  {"id": "rx", "type": "keyword", "mode": "regex", "keywords": ["^order\\s+\\d+$"]},
  {"id": "pl", "type": "payload", "payload": "GO"},
  {"id": "gs", "type": "get_started"},
  {"id": "cs", "type": "conversation_start"},
  {"id": "rf", "type": "ref", "ref": "summer-promo"},
  {"id": "df", "type": "default", "cooldown": "24h"},
  {"id": "cm", "type": "comment", "mode": "contains", "keywords": ["info"], "post_ids": ["123_456"]}
 ],
 "start": "msg",
 "nodes": [
  {"id": "msg", "type": "message", "name": "Hello", "position": {"x": 1.5, "y": -2},
   "text": "Hi {{contact.first_name|there}}",
   "quick_replies": [{"title": "Ask", "payload": "ASK", "next": "ask"}],
   "buttons": [{"type": "postback", "title": "Go", "payload": "GO", "next": "ask"}, {"type": "url", "title": "Site", "url": "https://example.com/{{contact.field.ext_id}}"}],
   "attachment": {"type": "image", "url": "https://example.com/a.png"},
   "next": "cond"},
  {"id": "cards", "type": "message", "cards": [{"title": "A", "subtitle": "a", "image_url": "https://example.com/a.png", "url": "https://example.com/a", "buttons": [{"type": "postback", "title": "Pick", "next": "ask"}]}], "next": "ask"},
  {"id": "cond", "type": "condition", "branches": [
    {"match": "all", "rules": [
      {"subject": "tag", "key": "vip", "op": "exists"},
      {"subject": "field", "key": "age", "op": "gt", "value": "18"},
      {"subject": "channel", "op": "eq", "value": "messenger"},
      {"subject": "contact", "key": "locale", "op": "eq", "value": "km_KH"},
      {"subject": "business_hours", "op": "open", "hours": {"time_zone": "Asia/Phnom_Penh", "weekly": [{"days": ["mon", "tue"], "from": "08:00", "to": "17:00"}]}}
    ], "next": "act"},
    {"match": "any", "rules": [{"subject": "field", "key": "email", "op": "not_exists"}], "next": "cards"}
   ], "else": "rand"},
  {"id": "act", "type": "action", "actions": [
    {"type": "add_tag", "tag": "new"}, {"type": "remove_tag", "tag": "vip"},
    {"type": "set_field", "field": "age", "value": "21"}, {"type": "clear_field", "field": "email"},
    {"type": "set_stage", "stage": "lead"}, {"type": "subscribe", "topic": "news"}, {"type": "unsubscribe"},
    {"type": "notify_team", "team": "sales", "text": "Lead {{contact.name}}"}, {"type": "resolve"}
   ], "next": "ask"},
  {"id": "ask", "type": "question", "text": "E-mail?", "answer": "email", "field": "email", "var": "mail",
   "retry": "Again", "max_attempts": 2, "timeout": "1h", "next": "wait", "invalid_next": "human", "timeout_next": "end"},
  {"id": "size", "type": "question", "text": "Size?", "answer": "choice", "choices": [{"title": "Small", "value": "s", "next": "end"}, {"title": "Large"}], "next": "phone"},
  {"id": "phone", "type": "question", "text": "Phone?", "answer": "phone", "region": "KH", "field": "phone", "next": "num"},
  {"id": "num", "type": "question", "text": "How many?", "answer": "number", "min": 1, "max": 10, "next": "day"},
  {"id": "day", "type": "question", "text": "When?", "answer": "date", "date_order": "mdy", "next": "end"},
  {"id": "wait", "type": "delay", "duration": "10m", "cancel_on_reply": true, "next": "call"},
  {"id": "call", "type": "http", "method": "POST", "url": "https://api.example.com/x/{{flow.var.mail}}",
   "headers": [{"name": "Authorization", "value": "Bearer s3cret", "secret": true}, {"name": "Accept", "value": "application/json"}],
   "body": {"a": "{{contact.first_name}}", "n": 12345678901234567890, "html": "<b>&</b>"},
   "timeout": "5s", "map": [{"path": "data.items.0.id", "field": "ext_id", "var": "ext"}], "next": "goto", "failure_next": "size"},
  {"id": "rand", "type": "randomizer", "branches": [{"weight": 1, "next": "ai"}, {"weight": 3, "next": "human"}]},
  {"id": "goto", "type": "goto_flow", "flow": "other-flow"},
  {"id": "human", "type": "handoff", "team": "sales"},
  {"id": "ai", "type": "ai_answer", "team": "sales"},
  {"id": "end", "type": "end"}
 ]
}`

// baseKnown is what exists for baseJSON.
func baseKnown() Known {
	return Known{
		Fields: map[string]FieldType{"age": FieldNumber, "email": FieldEmail, "ext_id": FieldText, "phone": FieldPhone, "birthday": FieldDate, "note": ""},
		Tags:   map[string]bool{"vip": true},
		Flows:  map[string]bool{"other-flow": true},
		Teams:  map[string]bool{"sales": true},
		Stages: map[string]bool{"lead": true},
	}
}

// base parses baseJSON afresh.
func base(t testing.TB) Document {
	t.Helper()
	d, err := Parse([]byte(baseJSON))
	if err != nil {
		t.Fatalf("Parse(baseJSON): %v", err)
	}
	return d
}

// body returns the body of node id in d, of type B.
func body[B Body](t testing.TB, d Document, id string) B {
	t.Helper()
	for _, n := range d.Nodes {
		if n.ID == id {
			b, ok := n.Body.(B)
			if !ok {
				t.Fatalf("node %s is a %s", id, n.Type())
			}
			return b
		}
	}
	t.Fatalf("no node %s", id)
	panic("unreachable")
}

// trig returns a pointer to trigger id in d.
func trig(t testing.TB, d *Document, id string) *Trigger {
	t.Helper()
	for i := range d.Triggers {
		if d.Triggers[i].ID == id {
			return &d.Triggers[i]
		}
	}
	t.Fatalf("no trigger %s", id)
	return nil
}

// reflectTypeOf is the struct type behind a body pointer.
func reflectTypeOf(b Body) reflect.Type { return reflect.TypeOf(b).Elem() }

// hasProblem reports whether ps holds a problem of the given severity at
// node (or trigger) id and field.
func hasProblem(ps []Problem, sev Severity, id, field string) bool {
	for _, p := range ps {
		if p.Severity == sev && (p.NodeID == id || p.TriggerID == id) && p.Field == field {
			return true
		}
	}
	return false
}
