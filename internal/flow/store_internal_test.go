package flow

import (
	"strings"
	"testing"
)

// The version cache keeps at most its bound, evicting the least recently
// used version, and keys by workspace as well as flow and version.
func TestVersionCache(t *testing.T) {
	c := newVersionCache(2)
	k := func(ws, flow string, v int) versionKey { return versionKey{workspace: ws, flow: flow, version: v} }
	doc := func(name string) Document { return Document{Name: name} }
	c.put(k("a", "f", 1), doc("one"))
	c.put(k("a", "f", 2), doc("two"))
	if _, ok := c.get(k("b", "f", 1)); ok {
		t.Fatal("a version cached for workspace a was served to b")
	}
	if d, ok := c.get(k("a", "f", 1)); !ok || d.Name != "one" { // now most recently used
		t.Fatalf("get = %v, %v", d, ok)
	}
	c.put(k("a", "f", 3), doc("three")) // evicts version 2
	if _, ok := c.get(k("a", "f", 2)); ok {
		t.Error("the least recently used version was not evicted")
	}
	for _, v := range []int{1, 3} {
		if _, ok := c.get(k("a", "f", v)); !ok {
			t.Errorf("version %d evicted", v)
		}
	}
	c.put(k("a", "f", 3), doc("again"))
	if d, _ := c.get(k("a", "f", 3)); d.Name != "three" || c.len() != 2 {
		t.Errorf("put of a cached version replaced it (%q) or grew the cache (%d)", d.Name, c.len())
	}
}

func TestTriggerSummary(t *testing.T) {
	for _, tc := range []struct {
		t    Trigger
		want string
	}{
		{Trigger{Type: TriggerKeyword, Mode: ModeContains, Keywords: []string{"price", "តម្លៃ"}, Exclude: []string{"no"}, Channels: []string{"messenger"}},
			"Message contains “price” or “តម្លៃ”, not “no” (messenger)"},
		{Trigger{Type: TriggerKeyword, Mode: ModeExact, Keywords: []string{"hi"}}, "Message is “hi”"},
		{Trigger{Type: TriggerKeyword, Mode: ModeBeginsWith, Keywords: []string{"a", "b", "c"}}, "Message begins with “a”, “b” or “c”"},
		{Trigger{Type: TriggerKeyword, Mode: ModeWholeWord, Keywords: []string{"a", "b", "c", "d", "e"}}, "Message has the word “a”, “b”, “c” or 2 more"},
		{Trigger{Type: TriggerKeyword, Mode: ModeRegex, Keywords: []string{`^order\s+\d+$`}}, "Message matches “^order\\s+\\d+$”"},
		{Trigger{Type: TriggerKeyword, Mode: ModeContains, Keywords: []string{strings.Repeat("x", 50)}}, "Message contains “" + strings.Repeat("x", 40) + "…”"},
		{Trigger{Type: TriggerPayload, Payload: "GET_PRICES"}, "Button or quick reply GET_PRICES"},
		{Trigger{Type: TriggerGetStarted}, "Get Started button"},
		{Trigger{Type: TriggerConversationStart}, "First message of a conversation"},
		{Trigger{Type: TriggerRef, Ref: "summer-promo"}, "Link or ad with ref summer-promo"},
		{Trigger{Type: TriggerDefault}, "No other trigger matched"},
		{Trigger{Type: TriggerDefault, Cooldown: "24h"}, "No other trigger matched, at most once per 24h per contact"},
		{Trigger{Type: TriggerComment}, "Any comment"},
		{Trigger{Type: TriggerComment, Mode: ModeContains, Keywords: []string{"info"}, PostIDs: []string{"1_2"}}, "Comment contains “info” on 1 post"},
		{Trigger{Type: TriggerComment, PostIDs: []string{"1_2", "1_3"}}, "Any comment on 2 posts"},
	} {
		if got := tc.t.Summary(); got != tc.want {
			t.Errorf("Summary(%+v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
