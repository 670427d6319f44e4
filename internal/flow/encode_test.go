package flow

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// roundTrip checks the round-trip property on an accepted document:
// Parse(MarshalJSON(d)) equals d, and marshalling is stable.
func roundTrip(t testing.TB, d Document) {
	t.Helper()
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(d)): %v\n%s", err, out)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Fatalf("Parse(Marshal(d)) differs (-want +got):\n%s", diff)
	}
	again, err := json.Marshal(back)
	if err != nil || !bytes.Equal(out, again) {
		t.Fatalf("Marshal is not stable: %v\n%s\n%s", err, out, again)
	}
}

func TestRoundTrip(t *testing.T) {
	roundTrip(t, base(t))
	// Empty lists, nulls and whitespace in bodies all have one canonical
	// form.
	d, err := Parse([]byte(doc(``, `{"id": "a", "type": "message", "quick_replies": [], "cards": null, "text": "x"},
		{"id": "b", "type": "http", "method": "POST", "url": "https://x.example", "body": { "k" : [ 1, 2 ], "h": "a&b" }, "headers": []},
		{"id": "c", "type": "end", "position": null}`)))
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, d)
	if m := body[*MessageNode](t, d, "a"); m.QuickReplies != nil || m.Cards != nil {
		t.Errorf("empty lists not normalized: %+v", m)
	}
}

// The flat shape: a node's members sit beside id and type, in the
// documented order.
func TestMarshalShape(t *testing.T) {
	d := Document{Name: "N", Start: "a", Nodes: []Node{
		{ID: "a", Name: "First", Position: &Position{X: 1, Y: 2}, Body: &MessageNode{Text: "<Hi> & bye", Next: "b"}},
		{ID: "b", Body: &EndNode{}},
	}}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"format":1,"name":"N","start":"a","nodes":[{"id":"a","type":"message","name":"First","position":{"x":1,"y":2},"text":"\u003cHi\u003e \u0026 bye","next":"b"},{"id":"b","type":"end"}]}`
	if string(out) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", out, want)
	}
	roundTrip(t, d)
	if out, _ := json.Marshal(Document{}); string(out) != `{"format":1,"start":"","nodes":[]}` {
		t.Errorf("empty document = %s", out)
	}
}

func TestMarshalNodeWithoutBody(t *testing.T) {
	for _, n := range []Node{{ID: "a"}, {ID: "a", Body: (*MessageNode)(nil)}} {
		if _, err := json.Marshal(Document{Nodes: []Node{n}}); err == nil || !strings.Contains(err.Error(), "has no type") {
			t.Errorf("Marshal(%+v) = %v, want an error", n, err)
		}
	}
}

func TestExportRedactsSecrets(t *testing.T) {
	d := base(t)
	out, err := d.Export()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("s3cret")) {
		t.Fatalf("Export leaked a secret header value:\n%s", out)
	}
	if !bytes.HasSuffix(out, []byte("}\n")) || !bytes.Contains(out, []byte("\n  \"nodes\": [")) {
		t.Errorf("Export is not indented with a final newline:\n%.200s", out)
	}
	if !bytes.Contains(out, []byte(`"Hi {{contact.first_name|there}}"`)) || !bytes.Contains(out, []byte("តម្លៃ")) {
		t.Errorf("Export escaped text it need not")
	}
	// The export parses back to the document minus the secret value, and
	// the original is untouched.
	back, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	want := d.Redact()
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("Parse(d.Export()) != d.Redact() (-want +got):\n%s", diff)
	}
	if h := body[*HTTPNode](t, back, "call"); h.Headers[0].Value != "" || !h.Headers[0].Secret || h.Headers[1].Value != "application/json" {
		t.Errorf("redacted headers = %+v", h.Headers)
	}
	if h := body[*HTTPNode](t, d, "call"); h.Headers[0].Value != "Bearer s3cret" {
		t.Errorf("Redact changed the original: %+v", h.Headers)
	}
	// The redacted document is flagged before publishing.
	if !hasProblem(Validate(back, baseKnown()), SeverityError, "call", "headers[0].value") {
		t.Error("Validate accepted a secret header without its value")
	}
}

// Node, Trigger and Document decode strictly through encoding/json too.
func TestUnmarshalJSON(t *testing.T) {
	var n Node
	if err := json.Unmarshal([]byte(`{"id": "q", "type": "delay", "duration": "1d12h"}`), &n); err != nil {
		t.Fatal(err)
	}
	if d := n.Body.(*DelayNode); d.Duration != "1d12h" || n.Type() != NodeDelay {
		t.Errorf("node = %+v", n)
	}
	if err := json.Unmarshal([]byte(`{"id": "q", "type": "delay", "durations": "1h"}`), &n); err == nil {
		t.Error("Node.UnmarshalJSON accepted an unknown field")
	}
	var tr Trigger
	if err := json.Unmarshal([]byte(`{"id": "t", "type": "ref", "ref": "x"}`), &tr); err != nil || tr.Ref != "x" {
		t.Errorf("trigger = %+v, %v", tr, err)
	}
	if err := json.Unmarshal([]byte(`{"id": "t", "type": "ref", "Ref": "x"}`), &tr); err == nil {
		t.Error("Trigger.UnmarshalJSON accepted a case-variant field")
	}
	var d Document
	if err := json.Unmarshal([]byte(baseJSON), &d); err != nil || len(d.Nodes) != 16 {
		t.Errorf("Document.UnmarshalJSON: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"format": 9}`), &d); err == nil {
		t.Error("Document.UnmarshalJSON accepted a future format")
	}
}

// No body type may declare a member that the node header uses.
func TestBodyMembersDoNotClash(t *testing.T) {
	for _, typ := range NodeTypes() {
		b, ok := newBody(typ)
		if !ok || b.Type() != typ {
			t.Fatalf("newBody(%s) = %T", typ, b)
		}
		for k := range jsonFields(reflectTypeOf(b)) {
			if headerKeys()[strings.ToLower(k)] {
				t.Errorf("%s body declares %q", typ, k)
			}
		}
	}
}
