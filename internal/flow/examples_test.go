package flow

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// examplesKnown is the workspace the example flows are written for.
func examplesKnown() Known {
	return Known{
		Fields: map[string]FieldType{
			"full_name": FieldText, "email": FieldEmail, "phone": FieldPhone, "lead_source": FieldText,
			"lifetime_value": FieldNumber, "preferred_size": FieldChoice,
		},
		Tags:   map[string]bool{"vip": true, "wholesale-lead": true, "call-back": true},
		Flows:  map[string]bool{},
		Teams:  map[string]bool{"sales": true, "support": true, "vip-desk": true},
		Stages: map[string]bool{"qualified": true},
	}
}

// exampleFiles lists examples/flows/*.json.
func exampleFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/flows/*.json")
	if err != nil || len(files) < 4 {
		t.Fatalf("examples: %v (%d files)", err, len(files))
	}
	return files
}

// Every example flow parses, validates with no problem at all (they are
// meant to be copied), round-trips, and exports to an equal document.
func TestExamples(t *testing.T) {
	for _, f := range exampleFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if ps := Validate(d, examplesKnown()); len(ps) != 0 {
				t.Fatalf("problems:\n%s", dump(ps))
			}
			roundTrip(t, d)
			out, err := d.Export()
			if err != nil {
				t.Fatal(err)
			}
			if back, err := Parse(out); err != nil || !equalJSON(t, back, d) {
				t.Fatalf("Export does not parse back to the document: %v", err)
			}
		})
	}
}

// The examples cover what the issue asks of them.
func TestExamplesCoverage(t *testing.T) {
	nodeTypes := map[NodeType]bool{}
	answers := map[AnswerType]bool{}
	var khmer bool
	for _, f := range exampleFiles(t) {
		data, _ := os.ReadFile(f)
		d, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		khmer = khmer || regexp.MustCompile(`\p{Khmer}`).MatchString(string(data))
		for _, n := range d.Nodes {
			nodeTypes[n.Type()] = true
			if q, ok := n.Body.(*QuestionNode); ok {
				answers[q.Answer] = true
			}
		}
	}
	for _, want := range []NodeType{NodeMessage, NodeQuestion, NodeCondition, NodeAction, NodeHTTP, NodeHandoff, NodeEnd} {
		if !nodeTypes[want] {
			t.Errorf("no example uses a %s node", want)
		}
	}
	for _, want := range []AnswerType{AnswerText, AnswerEmail, AnswerPhone, AnswerChoice} {
		if !answers[want] {
			t.Errorf("no example asks for a %s answer", want)
		}
	}
	if !khmer {
		t.Error("no example is written in Khmer")
	}
}

// Every JSON block of docs/flows.md is valid: whole documents parse and
// validate without errors, node and trigger examples decode strictly.
// Between them they show every node type and trigger type.
func TestDocsExamples(t *testing.T) {
	data, err := os.ReadFile("../../docs/flows.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(data, -1)
	if len(blocks) == 0 {
		t.Fatal("docs/flows.md has no JSON examples")
	}
	nodes := map[NodeType]bool{}
	triggers := map[TriggerType]bool{}
	for i, b := range blocks {
		src := b[1]
		var probe struct {
			Format *int   `json:"format"`
			Type   string `json:"type"`
		}
		if err := json.Unmarshal(src, &probe); err != nil {
			// A list of triggers or nodes.
			var list []json.RawMessage
			if err := json.Unmarshal(src, &list); err != nil {
				t.Errorf("block %d is not JSON: %v\n%s", i, err, src)
				continue
			}
			for _, item := range list {
				checkDocItem(t, i, item, nodes, triggers)
			}
			continue
		}
		if probe.Format != nil {
			d, err := Parse(src)
			if err != nil {
				t.Errorf("block %d: %v", i, err)
				continue
			}
			if ps := Validate(d, Known{}); HasErrors(ps) {
				t.Errorf("block %d has errors:\n%s", i, dump(ps))
			}
			for _, n := range d.Nodes {
				nodes[n.Type()] = true
			}
			for _, tr := range d.Triggers {
				triggers[tr.Type] = true
			}
			continue
		}
		checkDocItem(t, i, src, nodes, triggers)
	}
	for _, nt := range NodeTypes() {
		if !nodes[nt] {
			t.Errorf("docs/flows.md shows no %s node", nt)
		}
	}
	for _, tt := range TriggerTypes() {
		if !triggers[tt] {
			t.Errorf("docs/flows.md shows no %s trigger", tt)
		}
	}
}

// checkDocItem decodes one node or trigger example of the docs.
func checkDocItem(t *testing.T, block int, src []byte, nodes map[NodeType]bool, triggers map[TriggerType]bool) {
	t.Helper()
	var probe struct{ Type string }
	_ = json.Unmarshal(src, &probe)
	if slices.Contains(TriggerTypes(), TriggerType(probe.Type)) {
		var tr Trigger
		if err := json.Unmarshal(src, &tr); err != nil {
			t.Errorf("block %d: trigger: %v", block, err)
			return
		}
		ps := Validate(Document{Triggers: []Trigger{tr}, Start: "x", Nodes: []Node{{ID: "x", Body: &EndNode{}}}}, Known{})
		if HasErrors(ps) {
			t.Errorf("block %d: trigger has errors:\n%s", block, dump(ps))
		}
		triggers[tr.Type] = true
		return
	}
	var n Node
	if err := json.Unmarshal(src, &n); err != nil {
		t.Errorf("block %d: node: %v\n%s", block, err, src)
		return
	}
	// Alone, a node's edges dangle; anything else must be right.
	ps := Validate(Document{Start: n.ID, Nodes: []Node{n}}, Known{})
	for _, p := range ps {
		if p.Severity == SeverityError && !strings.Contains(p.Message, "which does not exist") {
			t.Errorf("block %d: node %s: %s", block, n.ID, p.Message)
		}
	}
	nodes[n.Type()] = true
}

// equalJSON compares two documents by their JSON.
func equalJSON(t testing.TB, a, b Document) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b.Redact())
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
