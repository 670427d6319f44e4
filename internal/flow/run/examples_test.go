package run

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/internal/flow"
)

// Issue 4 item 1: the example flows run. Each is simulated from its start
// with a few typical inputs, and none stops with an error.
func TestExamplesRun(t *testing.T) {
	files, err := filepath.Glob("../../../examples/flows/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := flow.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			caller := &stubCaller{res: CallResponse{Status: 200, Body: []byte(`{}`)}}
			for _, inputs := range [][]SimInput{nil, {{Text: "1"}}, {{Text: "dara@example.com"}, {Text: "012 345 678"}}} {
				res, err := Simulate(context.Background(), doc, SimRequest{Contact: SimContact{FirstName: "Dara", Locale: "km_KH"}, Inputs: inputs},
					SimOptions{FlowID: "example", Caller: caller, Now: testNow, Payloads: Payloads{Key: testKey, Workspace: "ex"}})
				if err != nil || res.Error != "" {
					t.Errorf("inputs %v: %v %q", inputs, err, res.Error)
				}
				if len(res.Transcript) == 0 && len(res.Actions) == 0 {
					t.Errorf("inputs %v: the flow did nothing", inputs)
				}
			}
		})
	}
}
