package run

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/flow"
)

func TestMessageNodes(t *testing.T) {
	p := program(t, `{"format":1,"name":"m","start":"hi","nodes":[
		{"id":"hi","type":"message","text":"Hi {{contact.first_name|there}}, {{flow.var.x|no x}}!",
		 "quick_replies":[{"title":"Prices","next":"prices"},{"title":"Hours","payload":"HOURS","next":"hours"},{"title":"Nothing","payload":"NOP"}]},
		{"id":"prices","type":"message","text":"From $10.","next":"bye"},
		{"id":"hours","type":"message","text":"9 to 5.","buttons":[{"type":"url","title":"Map","url":"https://maps.example/{{contact.field.city}}?q={{contact.first_name}}"}]},
		{"id":"bye","type":"end"}]}`)

	out := start(p, env())
	if diff := cmp.Diff([]string{"Hi Dara, no x!"}, texts(out)); diff != "" {
		t.Fatalf("texts (-want +got):\n%s", diff)
	}
	if out.State.Status != StatusAwaiting || out.State.Node != "hi" || out.Wait == nil || out.Wait.Kind != WaitTap {
		t.Fatalf("a message whose quick replies lead on waits for a tap: %+v %+v", out.State, out.Wait)
	}
	if diff := cmp.Diff([]string{"hi:entered", "hi:completed"}, events(out)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	qr := out.Replies[0].Content.QuickReplies
	if len(qr) != 3 || qr[2].Payload != "NOP" || !strings.HasPrefix(qr[0].Payload, payloadPrefix) || !strings.HasPrefix(qr[1].Payload, payloadPrefix) {
		t.Fatalf("quick replies = %+v", qr)
	}
	e := env()
	tap, ok := e.Payloads.Decode(qr[1].Payload)
	if !ok || tap.Node != "hi" || tap.Kind != TapQuickReply || tap.Index != 1 || tap.Payload != "HOURS" || tap.FlowID != "f1" || tap.Version != 1 {
		t.Fatalf("decoded %+v %v", tap, ok)
	}
	waiting := out.State

	t.Run("tap leads on", func(t *testing.T) {
		out := p.Step(waiting, Input{Kind: InputTap, Tap: tap}, env())
		if !out.Consumed || len(out.Replies) != 1 || out.Replies[0].Content.Text != "9 to 5." || out.State.Status != StatusEnded {
			t.Fatalf("%+v", out)
		}
		// Variables in a URL are escaped for where they stand.
		if got := out.Replies[0].Content.Buttons[0].URL; got != "https://maps.example/Phnom%20Penh?q=Dara" {
			t.Errorf("url = %s", got)
		}
	})
	t.Run("a tap on an old message still leads on", func(t *testing.T) {
		out := p.Step(State{Status: StatusEnded}, Input{Kind: InputTap, Tap: tap}, env())
		if !out.Consumed || out.State.Status != StatusEnded || len(out.Replies) != 1 {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("typed title counts as the tap", func(t *testing.T) {
		out := p.Step(waiting, Input{Kind: InputMessage, Text: "  prices "}, env())
		if !out.Consumed || cmp.Diff([]string{"From $10."}, texts(out)) != "" {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("author payload counts as the tap", func(t *testing.T) {
		out := p.Step(waiting, Input{Kind: InputMessage, Text: "?", Payload: "HOURS"}, env())
		if !out.Consumed || cmp.Diff([]string{"9 to 5."}, texts(out)) != "" {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("anything else is not the session's", func(t *testing.T) {
		out := p.Step(waiting, Input{Kind: InputMessage, Text: "where are you?"}, env())
		if out.Consumed || len(out.Replies) != 0 || out.State.Status != StatusAwaiting || out.State.Node != "hi" {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("a tap without a target is plain text", func(t *testing.T) {
		bad := tap
		bad.Index = 2
		if out := p.Step(waiting, Input{Kind: InputTap, Tap: bad}, env()); out.Consumed {
			t.Fatalf("%+v", out)
		}
	})
}

func TestQuestionNodes(t *testing.T) {
	const doc = `{"format":1,"name":"q","start":"ask","nodes":[
		{"id":"ask","type":"question","text":"Your e-mail?","answer":"email","retry":"That is not an e-mail address.",
		 "max_attempts":2,"field":"email","var":"mail","timeout":"30m","next":"ok","invalid_next":"human","timeout_next":"late"},
		{"id":"ok","type":"message","text":"Thanks, {{flow.var.mail}}."},
		{"id":"human","type":"handoff","team":"support"},
		{"id":"late","type":"message","text":"Still there?"}]}`
	p := program(t, doc)
	asked := start(p, env())
	if cmp.Diff([]string{"Your e-mail?"}, texts(asked)) != "" || asked.State.Status != StatusAwaiting || asked.Wait.Kind != WaitAnswer ||
		!asked.Wait.Until.Equal(testNow.Add(30*60e9)) {
		t.Fatalf("ask = %+v %+v", asked, asked.Wait)
	}
	st := asked.State

	t.Run("valid answer saved", func(t *testing.T) {
		out := p.Step(st, Input{Kind: InputMessage, Text: " dara@example.com "}, env())
		if !out.Consumed || out.Invalid || cmp.Diff([]string{"Thanks, dara@example.com."}, texts(out)) != "" {
			t.Fatalf("%+v", out)
		}
		if len(out.Actions) != 1 || out.Actions[0].Type != flow.ActionSetField || out.Actions[0].Field != "email" || out.Actions[0].Value != "dara@example.com" {
			t.Errorf("actions = %+v", out.Actions)
		}
		if diff := cmp.Diff([]string{"ask:completed", "ok:entered", "ok:completed"}, events(out)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if st.Vars != nil {
			t.Error("Step wrote into the caller's variables")
		}
	})
	t.Run("invalid answer retried then given up", func(t *testing.T) {
		out := p.Step(st, Input{Kind: InputMessage, Text: "no thanks"}, env())
		if !out.Consumed || !out.Invalid || out.State.Attempts != 1 || out.State.Node != "ask" ||
			cmp.Diff([]string{"That is not an e-mail address."}, texts(out)) != "" || len(out.Actions) != 0 {
			t.Fatalf("first wrong answer: %+v", out)
		}
		out = p.Step(out.State, Input{Kind: InputMessage, Text: "still no"}, env())
		if !out.Invalid || out.Handoff == nil || out.Handoff.Team != "support" || out.State.Status != StatusEnded || len(out.Replies) != 0 {
			t.Fatalf("second wrong answer reaches the limit and takes invalid_next: %+v", out)
		}
		if diff := cmp.Diff([]string{"ask:dropped", "human:entered", "human:completed"}, events(out)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		out := p.Step(st, Input{Kind: InputTimeout}, env())
		if !out.Consumed || cmp.Diff([]string{"Still there?"}, texts(out)) != "" || out.State.Status != StatusEnded {
			t.Fatalf("%+v", out)
		}
		if events(out)[0] != "ask:dropped" {
			t.Errorf("events = %v", events(out))
		}
	})
	t.Run("stale timeout", func(t *testing.T) {
		for _, s := range []State{{Status: StatusEnded}, {FlowID: "f1", Version: 2, Node: "ask", Status: StatusAwaiting}} {
			if out := p.Step(s, Input{Kind: InputTimeout}, env()); out.Consumed || len(out.Replies) != 0 {
				t.Errorf("%+v: %+v", s, out)
			}
		}
	})
	t.Run("resume and http do not apply to a question", func(t *testing.T) {
		for _, k := range []InputKind{InputResume, InputHTTP} {
			if out := p.Step(st, Input{Kind: k}, env()); out.Consumed {
				t.Errorf("%s: %+v", k, out)
			}
		}
	})
}

func TestQuestionAnswerTypes(t *testing.T) {
	for _, tc := range []struct {
		answer, extra string
		good, want    string
		bad           string
	}{
		{"text", "", " hello ", "hello", "   "},
		{"phone", `,"region":"KH"`, "012 345 678", "+85512345678", "12"},
		{"number", `,"min":1,"max":10`, "៧", "7", "11"},
		{"date", "", "23/11/2026", "2026-11-23", "31/02/2026"},
		{"choice", `,"choices":[{"title":"Small","value":"s"},{"title":"Large","value":"l"}]`, "large", "l", "medium"},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			p := program(t, `{"format":1,"name":"q","start":"a","nodes":[{"id":"a","type":"question","text":"?","answer":"`+tc.answer+`"`+tc.extra+`,"var":"v","next":"b"},{"id":"b","type":"message","text":"[{{flow.var.v}}]"}]}`)
			st := start(p, env()).State
			out := p.Step(st, Input{Kind: InputMessage, Text: tc.good}, env())
			if out.Invalid || out.State.Status != StatusEnded || cmp.Diff([]string{"[" + tc.want + "]"}, texts(out)) != "" {
				t.Fatalf("good answer %q: %+v", tc.good, out)
			}
			bad := p.Step(st, Input{Kind: InputMessage, Text: tc.bad}, env())
			if !bad.Invalid || bad.State.Attempts != 1 {
				t.Fatalf("bad answer %q: %+v", tc.bad, bad)
			}
		})
	}
	t.Run("choice tapped, even on an old question", func(t *testing.T) {
		p := program(t, `{"format":1,"name":"q","start":"a","nodes":[
			{"id":"a","type":"question","text":"Size?","answer":"choice","var":"size","next":"c",
			 "choices":[{"title":"Small","value":"s"},{"title":"Large","value":"l","next":"b"}]},
			{"id":"b","type":"message","text":"Big it is: {{flow.var.size}}."},
			{"id":"c","type":"end"}]}`)
		asked := start(p, env())
		qr := asked.Replies[0].Content.QuickReplies
		if len(qr) != 2 || qr[1].Title != "Large" {
			t.Fatalf("choices as quick replies: %+v", qr)
		}
		e := env()
		tap, ok := e.Payloads.Decode(qr[1].Payload)
		if !ok || tap.Kind != TapChoice || tap.Index != 1 {
			t.Fatalf("%+v %v", tap, ok)
		}
		for _, st := range []State{asked.State, {Status: StatusEnded}} {
			out := p.Step(st, Input{Kind: InputTap, Tap: tap}, env())
			if !out.Consumed || cmp.Diff([]string{"Big it is: l."}, texts(out)) != "" {
				t.Errorf("from %+v: %+v", st, out)
			}
		}
	})
}

func TestConditionNodes(t *testing.T) {
	const hours = `{"time_zone":"Asia/Phnom_Penh","weekly":[{"days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"17:00"}]}`
	for _, tc := range []struct {
		name, rules, match string
		want               string
	}{
		{"tag exists, any case", `[{"subject":"tag","key":"vip","op":"exists"}]`, "all", "yes"},
		{"tag not exists", `[{"subject":"tag","key":"vip","op":"not_exists"}]`, "all", "no"},
		{"field eq", `[{"subject":"field","key":"city","op":"eq","value":"phnom penh"}]`, "all", "yes"},
		{"field gt number", `[{"subject":"field","key":"orders","op":"gt","value":"9"}]`, "all", "yes"},
		{"field lt number", `[{"subject":"field","key":"orders","op":"lt","value":"9"}]`, "all", "no"},
		{"field contains", `[{"subject":"field","key":"city","op":"contains","value":"PENH"}]`, "all", "yes"},
		{"unset field", `[{"subject":"field","key":"email","op":"exists"}]`, "all", "no"},
		{"unset field neq", `[{"subject":"field","key":"email","op":"neq","value":"x"}]`, "all", "yes"},
		{"channel", `[{"subject":"channel","op":"eq","value":"messenger"}]`, "all", "yes"},
		{"contact locale", `[{"subject":"contact","key":"locale","op":"eq","value":"km_KH"}]`, "all", "yes"},
		{"open: Monday 10:00 in Phnom Penh", `[{"subject":"business_hours","op":"open","hours":` + hours + `}]`, "all", "yes"},
		{"all needs every rule", `[{"subject":"tag","key":"vip","op":"exists"},{"subject":"channel","op":"eq","value":"whatsapp"}]`, "all", "no"},
		{"any needs one", `[{"subject":"tag","key":"vip","op":"not_exists"},{"subject":"channel","op":"eq","value":"messenger"}]`, "any", "yes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := program(t, `{"format":1,"name":"c","start":"c","nodes":[
				{"id":"c","type":"condition","branches":[{"match":"`+tc.match+`","rules":`+tc.rules+`,"next":"yes"}],"else":"no"},
				{"id":"yes","type":"message","text":"yes"},{"id":"no","type":"message","text":"no"}]}`)
			out := start(p, env())
			if cmp.Diff([]string{tc.want}, texts(out)) != "" {
				t.Errorf("got %v, want %s", texts(out), tc.want)
			}
		})
	}
	t.Run("closed after hours", func(t *testing.T) {
		p := program(t, `{"format":1,"name":"c","start":"c","nodes":[
			{"id":"c","type":"condition","branches":[{"rules":[{"subject":"business_hours","op":"closed","hours":`+hours+`}],"next":"yes"}]},
			{"id":"yes","type":"message","text":"closed"}]}`)
		e := env()
		e.Now = testNow.Add(10 * 3600e9) // 20:00 in Phnom Penh
		if got := texts(start(p, e)); cmp.Diff([]string{"closed"}, got) != "" {
			t.Errorf("got %v", got)
		}
	})
}

func TestActionNodes(t *testing.T) {
	p := program(t, `{"format":1,"name":"a","start":"a","nodes":[
		{"id":"a","type":"action","actions":[
			{"type":"add_tag","tag":"lead"},{"type":"remove_tag","tag":"vip"},
			{"type":"set_field","field":"greeting","value":"Hello {{contact.first_name}}"},{"type":"clear_field","field":"city"},
			{"type":"set_stage","stage":"Qualified"},{"type":"subscribe"},{"type":"unsubscribe","topic":"news"},
			{"type":"notify_team","team":"sales","text":"{{contact.name}} wants a quote"},{"type":"resolve"}],"next":"c"},
		{"id":"c","type":"condition","branches":[{"rules":[
			{"subject":"tag","key":"LEAD","op":"exists"},{"subject":"tag","key":"vip","op":"not_exists"},
			{"subject":"field","key":"city","op":"not_exists"},{"subject":"field","key":"greeting","op":"eq","value":"hello dara"}],"next":"seen"}],"else":"unseen"},
		{"id":"seen","type":"message","text":"changes seen"},{"id":"unseen","type":"message","text":"changes not seen"}]}`)
	e := env()
	out := start(p, e)
	var got []string
	for _, a := range out.Actions {
		got = append(got, a.Type+"|"+a.Tag+a.Field+a.Value+a.Stage+a.Topic+a.Team+a.Text)
	}
	want := []string{"add_tag|lead", "remove_tag|vip", "set_field|greetingHello Dara", "clear_field|city", "set_stage|Qualified",
		"subscribe|", "unsubscribe|news", "notify_team|salesDara Sok wants a quote", "resolve|"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if !out.Resolve || cmp.Diff([]string{"changes seen"}, texts(out)) != "" {
		t.Errorf("resolve %v, texts %v", out.Resolve, texts(out))
	}
	if len(e.Contact.Tags) != 1 || e.Contact.Tags[0] != "VIP" || e.Contact.Fields["city"] != "Phnom Penh" {
		t.Errorf("Step changed the caller's contact: %+v", e.Contact)
	}
}

func TestDelayNodes(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		doc := `{"format":1,"name":"d","start":"d","nodes":[{"id":"d","type":"delay","duration":"1h","cancel_on_reply":` +
			map[bool]string{false: "false", true: "true"}[cancel] + `,"next":"m"},{"id":"m","type":"message","text":"An hour later."}]}`
		p := program(t, doc)
		out := start(p, env())
		if out.State.Status != StatusWaiting || out.Wait.Kind != WaitDelay || !out.Wait.Until.Equal(testNow.Add(3600e9)) || out.Wait.CancelOnReply != cancel {
			t.Fatalf("cancel=%v: %+v %+v", cancel, out.State, out.Wait)
		}
		st := out.State
		reply := p.Step(st, Input{Kind: InputMessage, Text: "hello?"}, env())
		if reply.Consumed {
			t.Errorf("cancel=%v: a message during a delay is never the delay's", cancel)
		}
		if cancel && (reply.State.Status != StatusEnded || cmp.Diff([]string{"d:dropped"}, events(reply)) != "") {
			t.Errorf("cancel_on_reply ends the flow: %+v", reply)
		}
		if !cancel && reply.State.Status != StatusWaiting {
			t.Errorf("without cancel_on_reply the delay goes on: %+v", reply)
		}
		resumed := p.Step(st, Input{Kind: InputResume}, env())
		if !resumed.Consumed || cmp.Diff([]string{"An hour later."}, texts(resumed)) != "" {
			t.Errorf("resume: %+v", resumed)
		}
		if stale := p.Step(reply.State, Input{Kind: InputResume}, env()); cancel && stale.Consumed {
			t.Errorf("a resume after the cancel does nothing: %+v", stale)
		}
	}
}

func TestHTTPNodes(t *testing.T) {
	p := program(t, `{"format":1,"name":"h","start":"h","nodes":[
		{"id":"h","type":"http","method":"POST","url":"https://api.example.com/orders/{{contact.field.city}}?who={{contact.first_name}}&x=1",
		 "headers":[{"name":"Authorization","value":"Bearer s3cret","secret":true},{"name":"X-Who","value":"{{contact.name}}"}],
		 "body":{"name":"{{contact.first_name}}","n":12,"quote":"{{flow.var.q}}"},"timeout":"5s",
		 "map":[{"path":"order.status","var":"status","field":"order_status"},{"path":"items.1","var":"second"},{"path":"missing","var":"m"}],
		 "next":"ok","failure_next":"ko"},
		{"id":"ok","type":"message","text":"Order {{flow.var.status}}, {{flow.var.second}}."},
		{"id":"ko","type":"message","text":"Sorry, try later."}]}`)
	out := start(p, env())
	if out.State.Status != StatusWaiting || out.Wait.Kind != WaitHTTP || len(out.Replies) != 0 {
		t.Fatalf("%+v", out)
	}
	st := out.State
	st.Vars = map[string]string{"q": `say "hi"`}
	req, err := p.Request(st, env())
	if err != nil {
		t.Fatal(err)
	}
	want := CallRequest{Method: "POST", URL: "https://api.example.com/orders/Phnom%20Penh?who=Dara&x=1", Timeout: 5e9,
		Headers: []flow.Header{{Name: "Authorization", Value: "Bearer s3cret", Secret: true}, {Name: "X-Who", Value: "Dara Sok"}},
		Body:    []byte(`{"n":12,"name":"Dara","quote":"say \"hi\""}`)}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	ok := p.Step(st, Input{Kind: InputHTTP, HTTP: CallResult{Status: 200, Body: []byte(`{"order":{"status":"shipped"},"items":[1,2.50]}`)}}, env())
	if !ok.Consumed || cmp.Diff([]string{"Order shipped, 2.50."}, texts(ok)) != "" {
		t.Fatalf("2xx: %+v", ok)
	}
	if len(ok.Actions) != 1 || ok.Actions[0].Field != "order_status" || ok.Actions[0].Value != "shipped" || len(ok.Problems) != 0 {
		t.Errorf("mapped to the field: %+v %+v", ok.Actions, ok.Problems)
	}
	for _, tc := range []struct {
		name string
		res  CallResult
		says string
	}{
		{"server error", CallResult{Status: 500}, "status 500"},
		{"redirect", CallResult{Status: 302}, "redirect"},
		{"blocked", CallResult{Err: ErrCallBlocked}, "not allowed"},
		{"too large", CallResult{Err: ErrCallTooLarge}, "larger than"},
		{"timeout", CallResult{Err: ErrCallTimeout}, "timeout"},
		{"unreachable", CallResult{Err: errUnreachable}, "could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := p.Step(st, Input{Kind: InputHTTP, HTTP: tc.res}, env())
			if !out.Consumed || cmp.Diff([]string{"Sorry, try later."}, texts(out)) != "" || len(out.Problems) != 1 ||
				out.Problems[0].Fatal || !strings.Contains(out.Problems[0].Message, tc.says) || out.Problems[0].Node != "h" {
				t.Fatalf("%+v", out)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		out := p.Step(st, Input{Kind: InputHTTP, HTTP: CallResult{Status: 200, Body: []byte("<html>")}}, env())
		if cmp.Diff([]string{"Order , ."}, texts(out)) != "" || len(out.Problems) != 1 {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("a message while the request is out is not the session's", func(t *testing.T) {
		if out := p.Step(st, Input{Kind: InputMessage, Text: "hi"}, env()); out.Consumed || out.State.Status != StatusWaiting {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("request of a session not waiting for one", func(t *testing.T) {
		if _, err := p.Request(State{Status: StatusEnded}, env()); err == nil {
			t.Fatal("no error")
		}
	})
}

// errUnreachable stands for a connection refused.
var errUnreachable = errorString("dial tcp: connection refused")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestEndingNodes(t *testing.T) {
	for _, tc := range []struct {
		name, node string
		check      func(t *testing.T, out Output)
	}{
		{"handoff", `{"id":"n","type":"handoff","team":"sales"}`, func(t *testing.T, out Output) {
			if out.Handoff == nil || out.Handoff.Team != "sales" || out.Handoff.Node != "n" {
				t.Errorf("%+v", out.Handoff)
			}
		}},
		{"ai_answer hands off until the agent exists", `{"id":"n","type":"ai_answer","team":"support"}`, func(t *testing.T, out Output) {
			if out.Handoff == nil || out.Handoff.Team != "support" {
				t.Errorf("%+v", out.Handoff)
			}
		}},
		{"goto_flow", `{"id":"n","type":"goto_flow","flow":"other"}`, func(t *testing.T, out Output) {
			if out.Goto != "other" || out.GotoNode != "n" {
				t.Errorf("%+v", out)
			}
		}},
		{"end", `{"id":"n","type":"end"}`, func(t *testing.T, out Output) {
			if out.Handoff != nil || out.Goto != "" {
				t.Errorf("%+v", out)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := program(t, `{"format":1,"name":"e","start":"n","nodes":[`+tc.node+`]}`)
			out := start(p, env())
			if out.State.Status != StatusEnded || out.Wait != nil || cmp.Diff([]string{"n:entered", "n:completed"}, events(out)) != "" {
				t.Fatalf("%+v", out)
			}
			tc.check(t, out)
		})
	}
}

func TestRandomizer(t *testing.T) {
	p := program(t, `{"format":1,"name":"r","start":"r","nodes":[
		{"id":"r","type":"randomizer","branches":[{"weight":1,"next":"a"},{"weight":3,"next":"b"}]},
		{"id":"a","type":"message","text":"A"},{"id":"b","type":"message","text":"B"}]}`)
	counts := map[string]int{}
	for i := range 4 {
		e := env()
		e.Rand = func(n int) int {
			if n != 4 {
				t.Fatalf("rand over %d, want the total weight 4", n)
			}
			return i
		}
		counts[texts(start(p, e))[0]]++
	}
	if counts["A"] != 1 || counts["B"] != 3 {
		t.Errorf("weights 1:3 gave %v", counts)
	}
	// Without a positive weight (which validation refuses) the run stops
	// with an error instead of guessing.
	p = Compile("f1", 1, flow.Document{Start: "r", Nodes: []flow.Node{
		{ID: "r", Body: &flow.RandomizerNode{Branches: []flow.WeightedBranch{{Weight: 0, Next: "r"}}}}}})
	out := start(p, env())
	if len(out.Problems) != 1 || !out.Problems[0].Fatal || cmp.Diff([]string{"r:entered", "r:dropped"}, events(out)) != "" {
		t.Errorf("%+v", out)
	}
}

// A flow that jumps forever is stopped by the step bound, with an error
// its author sees. Validate refuses such a loop, so the document is built
// in Go, as an old or hand-made version could be.
func TestLoopBound(t *testing.T) {
	doc := flow.Document{Name: "loop", Start: "a", Nodes: []flow.Node{
		{ID: "a", Body: &flow.ActionNode{Actions: []flow.Action{{Type: flow.ActionAddTag, Tag: "x"}}, Next: "b"}},
		{ID: "b", Body: &flow.ConditionNode{Else: "a"}},
	}}
	p := Compile("f1", 1, doc)
	e := env()
	e.MaxSteps = 10
	out := start(p, e)
	if out.Steps != 10 || out.State.Status != StatusEnded || len(out.Problems) != 1 || !out.Problems[0].Fatal ||
		!strings.Contains(out.Problems[0].Message, "10 steps") || out.Problems[0].Node != "a" {
		t.Fatalf("steps %d, state %+v, problems %+v", out.Steps, out.State, out.Problems)
	}
	if out := start(p, env()); out.Steps != DefaultMaxSteps {
		t.Errorf("default bound: %d steps", out.Steps)
	}
	// A turn that used its whole budget passes a negative bound: nothing
	// more runs (it must not mean "the default" again).
	e.MaxSteps = -1
	if out := start(p, e); out.Steps != 0 || out.State.Status != StatusEnded || len(out.Problems) != 1 || !out.Problems[0].Fatal {
		t.Errorf("no steps left: steps %d, state %+v, problems %+v", out.Steps, out.State, out.Problems)
	}
	// A dangling edge ends the run with an error too.
	p = Compile("f1", 1, flow.Document{Start: "nowhere"})
	if out := start(p, env()); len(out.Problems) != 1 || out.State.Status != StatusEnded {
		t.Errorf("%+v", out)
	}
}

// A session belongs to one version: a resume, timeout or answer for a
// session of another version does nothing in this one.
func TestVersionPinning(t *testing.T) {
	p1 := program(t, `{"format":1,"name":"d","start":"d","nodes":[{"id":"d","type":"delay","duration":"1h","next":"m"},{"id":"m","type":"message","text":"v1"}]}`)
	d2, _ := flow.Parse([]byte(`{"format":1,"name":"d","start":"d","nodes":[{"id":"d","type":"delay","duration":"1h","next":"m"},{"id":"m","type":"message","text":"v2"}]}`))
	p2 := Compile("f1", 2, d2)
	st := start(p1, env()).State
	if out := p2.Step(st, Input{Kind: InputResume}, env()); out.Consumed {
		t.Fatalf("version 2 resumed a session of version 1: %+v", out)
	}
	if out := p1.Step(st, Input{Kind: InputResume}, env()); cmp.Diff([]string{"v1"}, texts(out)) != "" {
		t.Fatalf("%+v", out)
	}
	if ev := p1.Abandon(st); cmp.Diff([]Event{{Node: "d", Kind: EventDropped}}, ev) != "" {
		t.Errorf("abandon = %v", ev)
	}
	if ev := p2.Abandon(st); ev != nil {
		t.Errorf("another version's abandon = %v", ev)
	}
}

func TestNeeds(t *testing.T) {
	for _, tc := range []struct {
		nodes string
		want  Needs
	}{
		{`{"id":"a","type":"message","text":"Hi!"}`, Needs{}},
		{`{"id":"a","type":"message","text":"Hi {{ contact.first_name }}"}`, Needs{Names: true}},
		{`{"id":"a","type":"message","text":"{{contact.field.city}}"}`, Needs{Fields: true}},
		{`{"id":"a","type":"condition","branches":[{"rules":[{"subject":"tag","key":"x","op":"exists"}],"next":"a"}]}`, Needs{Tags: true}},
		{`{"id":"a","type":"condition","branches":[{"rules":[{"subject":"contact","key":"locale","op":"eq","value":"x"}],"next":"a"}]}`, Needs{}},
		{`{"id":"a","type":"http","method":"GET","url":"https://x.example/{{contact.last_name}}"}`, Needs{Names: true}},
	} {
		if got := program(t, `{"format":1,"name":"n","start":"a","nodes":[`+tc.nodes+`]}`).Needs; got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.nodes, got, tc.want)
		}
	}
}

func TestPayloads(t *testing.T) {
	c := Payloads{Key: testKey, Workspace: "ws-1"}
	for _, tap := range []Tap{
		{FlowID: "0190a8f2-0000-7000-8000-000000000001", Version: 3, Node: "welcome", Kind: TapQuickReply, Index: 2},
		{FlowID: "f", Version: 1, Node: "n-1_x", Kind: TapCardButton, Index: 9, Sub: 2, Payload: "AUTHOR.PAYLOAD.with.dots"},
		{FlowID: "f", Version: 0, Node: "q", Kind: TapChoice},
	} {
		p := c.Encode(tap)
		got, ok := c.Decode(p)
		if !ok || cmp.Diff(tap, got) != "" {
			t.Errorf("%s: %+v %v", p, got, ok)
		}
		if len(p) > 200 {
			t.Errorf("payload of %d bytes", len(p))
		}
		for _, bad := range []string{
			p[:len(p)-1] + "x",
			strings.Replace(p, ".welcome.", ".other.", 1),
			"~f1.AAAAAAAAAAAA." + p[len(payloadPrefix)+macLen*4/3+1:],
			"GET_STARTED", "", payloadPrefix,
		} {
			if bad == p {
				continue
			}
			if _, ok := c.Decode(bad); ok {
				t.Errorf("tampered payload %q decoded", bad)
			}
		}
		if _, ok := (Payloads{Key: testKey, Workspace: "ws-2"}).Decode(p); ok {
			t.Error("another workspace's payload decoded")
		}
		if _, ok := (Payloads{Key: []byte("other key"), Workspace: "ws-1"}).Decode(p); ok {
			t.Error("a payload under another key decoded")
		}
	}
}
