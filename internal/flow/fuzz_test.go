package flow

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse: no input makes Parse (or Validate, Export, Render on what it
// accepts) panic, and every accepted document round-trips.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../examples/flows/*.json")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(baseJSON))
	f.Add([]byte(`{"format": 1}`))
	f.Add([]byte(`{"format": 2}`))
	f.Add([]byte(doc(``, `{"id": "a", "type": "http", "body": {"a": "<&>\u2028"}}`)))
	f.Add([]byte(doc(``, `{"id": "a", "type": "message", "text": "{{{{contact.first_name|x}}}}"}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("Marshal of an accepted document: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)): %v\n%s", err, out)
		}
		if diff := cmp.Diff(d, back); diff != "" {
			t.Fatalf("round trip differs (-want +got):\n%s", diff)
		}
		again, _ := json.Marshal(back)
		if !bytes.Equal(out, again) {
			t.Fatalf("Marshal not stable:\n%s\n%s", out, again)
		}
		Validate(d, Known{})
		Validate(d, baseKnown())
		if _, err := d.Export(); err != nil {
			t.Fatalf("Export: %v", err)
		}
		for _, n := range d.Nodes {
			if m, ok := n.Body.(*MessageNode); ok {
				Render(m.Text, Vars{VarFirstName: "x"})
				Variables(m.Text)
			}
			if q, ok := n.Body.(*QuestionNode); ok {
				q.Check(q.Text, q.Retry)
			}
		}
	})
}
