package trigger_test

import (
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/flow/trigger"
)

func Example() {
	m, problems, err := trigger.Compile([]trigger.Rule{
		{ID: "t1", FlowID: "0190-a", FlowName: "Welcome", Kind: trigger.KindKeyword, Mode: trigger.ModeContains,
			Keywords: []string{"price", "តម្លៃ", "ราคา"}, Exclude: []string{"no"}, Priority: 10},
		{ID: "t2", FlowID: "0190-b", FlowName: "Promo", Kind: trigger.KindKeyword, Mode: trigger.ModeExact,
			Keywords: []string{"price list"}, Priority: 10},
		{ID: "t3", FlowID: "0190-a", FlowName: "Welcome", Kind: trigger.KindDefault, Cooldown: 24 * time.Hour},
	}, trigger.Options{})
	if err != nil {
		panic(err)
	}
	for _, p := range problems {
		fmt.Println(p.Severity+":", p.Message)
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, text := range []string{"តម្លៃប៉ុន្មាន?", "PRICE LIST", "no price", "hello"} {
		r, ok := m.Match(trigger.Event{Kind: trigger.EventText, Text: text, Channel: "messenger", Now: now})
		fmt.Printf("%s → %v %s %q\n", text, ok, r.RuleID, r.Keyword)
	}
	// Output:
	// warning: the keyword “price list” (flow “Promo”, trigger t2) and the keyword “price” (flow “Welcome”, trigger t1) both match the message “price list” at priority 10; flow “Welcome” wins because it was created first
	// តម្លៃប៉ុន្មាន? → true t1 "តម្លៃ"
	// PRICE LIST → true t1 "price"
	// no price → true t3 ""
	// hello → true t3 ""
}
