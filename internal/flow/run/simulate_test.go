package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/flow"
)

func TestSimulate(t *testing.T) {
	d, err := flow.Parse([]byte(`{"format":1,"name":"Sim","start":"hi","nodes":[
		{"id":"hi","type":"message","text":"Hi {{contact.first_name}}!","quick_replies":[{"title":"Order","next":"ask"}]},
		{"id":"ask","type":"question","text":"Order number?","answer":"number","var":"n","next":"wait"},
		{"id":"wait","type":"delay","duration":"1h30m","next":"call"},
		{"id":"call","type":"http","method":"GET","url":"https://shop.example.com/o/{{flow.var.n}}","map":[{"path":"s","var":"s"}],"next":"tag","failure_next":"ko"},
		{"id":"tag","type":"action","actions":[{"type":"add_tag","tag":"buyer"}],"next":"check"},
		{"id":"check","type":"condition","branches":[{"rules":[{"subject":"tag","key":"buyer","op":"exists"}],"next":"done"}]},
		{"id":"done","type":"message","text":"Order {{flow.var.n}} is {{flow.var.s}}.","next":"go"},
		{"id":"go","type":"goto_flow","flow":"other"},
		{"id":"ko","type":"message","text":"Failed."}]}`))
	if err != nil {
		t.Fatal(err)
	}
	caller := &stubCaller{res: CallResponse{Status: 200, Body: []byte(`{"s":"packed"}`)}}
	other, _ := flow.Parse([]byte(`{"format":1,"name":"Other","start":"m","nodes":[{"id":"m","type":"message","text":"In other."}]}`))
	opt := SimOptions{FlowID: "f", Caller: caller, Now: testNow, Payloads: Payloads{Key: testKey, Workspace: "sim"},
		Flows: func(_ context.Context, id string) (flow.Document, int, bool) { return other, 4, id == "other" }}
	req := SimRequest{Contact: SimContact{FirstName: "Dara"}}

	res, err := Simulate(context.Background(), d, req, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Transcript) != 1 || res.Transcript[0].Content.Text != "Hi Dara!" || res.State.Awaiting != "tap" || res.State.NodeID != "hi" {
		t.Fatalf("%+v", res)
	}
	tap := res.Transcript[0].Content.QuickReplies[0].Payload
	req.Inputs = []SimInput{{Payload: tap}, {Text: "abc"}, {Text: "42"}}
	res, err = Simulate(context.Background(), d, req, opt)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range res.Transcript {
		switch e.From {
		case FromNote:
			lines = append(lines, "note: "+e.Note)
		default:
			lines = append(lines, e.From+": "+e.Content.Text)
		}
	}
	want := []string{
		"bot: Hi Dara!", "contact: Order", "bot: Order number?", "contact: abc", "bot: Order number?", "contact: 42",
		"note: Waits 1h30m (skipped in the preview).", "note: Called GET https://shop.example.com: status 200.",
		"bot: Order 42 is packed.", "note: Continues in the flow “Other”.", "bot: In other.",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	if len(caller.reqs) != 1 || caller.reqs[0].URL != "https://shop.example.com/o/42" {
		t.Errorf("requests %+v", caller.reqs)
	}
	if diff := cmp.Diff([]SimAction{{Type: "add_tag", Detail: "buyer", NodeID: "tag"}, {Type: "goto_flow", Detail: "other", NodeID: "go"}}, res.Actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if res.State.Status != StatusEnded || res.Error != "" {
		t.Errorf("state %+v, error %q", res.State, res.Error)
	}

	t.Run("after the end", func(t *testing.T) {
		req.Inputs = append(req.Inputs, SimInput{Text: "hello?"})
		res, _ := Simulate(context.Background(), d, req, opt)
		last := res.Transcript[len(res.Transcript)-1]
		if last.From != FromNote || !strings.Contains(last.Note, "triggers") {
			t.Errorf("%+v", last)
		}
	})
	t.Run("without a caller", func(t *testing.T) {
		o := opt
		o.Caller = nil
		req := SimRequest{Inputs: []SimInput{{Payload: tap}, {Text: "1"}}}
		res, _ := Simulate(context.Background(), d, req, o)
		if got := res.Transcript[len(res.Transcript)-1]; got.Content == nil || got.Content.Text != "Failed." {
			t.Errorf("%+v", got)
		}
	})
	t.Run("too many inputs", func(t *testing.T) {
		if _, err := Simulate(context.Background(), d, SimRequest{Inputs: make([]SimInput, MaxSimInputs+1)}, opt); err == nil {
			t.Error("no error")
		}
	})
	t.Run("a loop", func(t *testing.T) {
		loop := flow.Document{Start: "a", Nodes: []flow.Node{{ID: "a", Body: &flow.ConditionNode{Else: "a"}}}}
		res, err := Simulate(context.Background(), loop, SimRequest{}, opt)
		if err != nil || !strings.Contains(res.Error, "64 steps") || res.State.Status != StatusEnded {
			t.Errorf("%+v %v", res, err)
		}
	})
	t.Run("a request loop stops at the preview's request limit", func(t *testing.T) {
		loop, err := flow.Parse([]byte(`{"format":1,"name":"Loop","start":"call","nodes":[
			{"id":"call","type":"http","method":"GET","url":"https://slow.example.com/","next":"call","failure_next":"call"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		c := &stubCaller{err: errors.New("unreachable")}
		o := opt
		o.Caller = c
		res, err := Simulate(context.Background(), loop, SimRequest{}, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.reqs) != maxSimCalls {
			t.Errorf("%d requests made, want at most %d", len(c.reqs), maxSimCalls)
		}
		if !strings.Contains(fmt.Sprint(res.Transcript), "at most") {
			t.Errorf("the transcript does not say why requests stopped: %+v", res.Transcript)
		}
	})
	t.Run("a payload from another workspace is text", func(t *testing.T) {
		o := opt
		o.Payloads.Workspace = "other"
		res, _ := Simulate(context.Background(), d, SimRequest{Inputs: []SimInput{{Payload: tap}}}, o)
		if got := res.Transcript[len(res.Transcript)-1]; got.From != FromNote {
			t.Errorf("%+v", got)
		}
	})
}

func TestHuman(t *testing.T) {
	for d, want := range map[string]string{"90s": "1m30s", "1h": "1h", "2d": "2d", "1d12h": "1d12h", "45m": "45m"} {
		v, _ := flow.Duration(d).Value()
		if got := human(v); got != want {
			t.Errorf("%s: %s", d, got)
		}
	}
}
