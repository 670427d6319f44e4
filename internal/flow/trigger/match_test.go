package trigger

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestModes(t *testing.T) {
	tests := []struct {
		mode    Mode
		keyword string
		text    string
		want    bool
	}{
		{ModeExact, "price", "Price", true},
		{ModeExact, "price list", "  PRICE   list ", true},
		{ModeExact, "price", "price?", false},
		{ModeExact, "price", "the price", false},
		{ModeExact, "price", "", false},

		{ModeContains, "price", "what's the PRICE?", true},
		{ModeContains, "price", "prices", true},
		{ModeContains, "price list", "send the price\n\nlist now", true},
		{ModeContains, "price", "pric", false},
		{ModeContains, "price", "p r i c e", false},

		{ModeBeginsWith, "hi", "Hi there", true},
		{ModeBeginsWith, "hi", "hiking", true},
		{ModeBeginsWith, "hi", "   hi", true},
		{ModeBeginsWith, "hi", "oh hi", false},

		{ModeWholeWord, "price", "the price?", true},
		{ModeWholeWord, "price", "price", true},
		{ModeWholeWord, "price list", "your price list.", true},
		{ModeWholeWord, "price", "prices", false},
		{ModeWholeWord, "price", "overprice", false},
		{ModeWholeWord, "price", "price_list", false},
		{ModeWholeWord, "t", "I don't", false},
		{ModeWholeWord, "t", "I don' t", true},
		{ModeWholeWord, "5", "50", false},
		{ModeWholeWord, "5", "5 items", true},
		{ModeWholeWord, "c++", "I like c++ a lot", true},
		{ModeWholeWord, "#sale", "any #sale today?", true},

		{ModeRegex, `^order\s*#?\d{4,}$`, "ORDER #12345", true},
		{ModeRegex, `colou?r`, "What COLOR?", true},
		{ModeRegex, `\d{4}`, "abc", false},
		{ModeRegex, `^hi$`, "hi there", false},
		{ModeRegex, `price list`, "price\u200b   LIST", true}, // runs on normalized text
		{ModeRegex, `strasse`, "Straße", true},                // folded text
		{ModeRegex, `straße`, "Straße", false},                // documented: write "strasse"
		{ModeRegex, `（\d+）`, "（12）", true},                    // fullwidth parentheses stay literal
		{ModeRegex, "^gia\u0301$", "GIÁ", true},               // pattern NFKC-composed like the text
		{ModeRegex, `ราคา\s*\d+`, "ราคา 250 บาท", true},       // gated by a caseless literal
		{ModeRegex, `ราคา\s*\d+`, "ราคาเท่าไหร่", false},
		{ModeRegex, `(order )?#\d+`, "#123", true}, // an optional literal does not gate
		{ModeRegex, `น้ำ\s*\d+`, "น้ำ 2 ขวด", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %q on %q", tt.mode, tt.keyword, tt.text), func(t *testing.T) {
			m := compile(t, kw("t1", "f1", tt.mode, 0, tt.keyword))
			if got := fired(m, text(tt.text)) == "t1"; got != tt.want {
				t.Errorf("fired %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	m := compile(t,
		Rule{ID: "pay", FlowID: "f1", Kind: KindPayload, Payload: "PRICES"},
		Rule{ID: "ref", FlowID: "f2", Kind: KindRef, Ref: "summer-promo"},
		Rule{ID: "gs", FlowID: "f3", Kind: KindGetStarted},
		Rule{ID: "new", FlowID: "f4", Kind: KindConversationStart},
		kw("kw", "f5", ModeContains, 0, "price"),
		Rule{ID: "cm", FlowID: "f6", Kind: KindComment, Mode: ModeWholeWord, Keywords: []string{"info"}, PostIDs: []string{"p1"}},
	)
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"postback payload", Event{Kind: EventPayload, Payload: "PRICES"}, "pay"},
		{"quick reply payload", Event{Kind: EventText, Text: "Prices", Payload: "PRICES"}, "pay"},
		{"payload with spaces around", Event{Kind: EventPayload, Payload: " PRICES "}, "pay"},
		{"payload is case-sensitive", Event{Kind: EventPayload, Payload: "prices"}, ""},
		{"unknown payload", Event{Kind: EventPayload, Payload: "OTHER"}, ""},
		{"postback title is not a keyword", Event{Kind: EventPayload, Text: "price", Payload: "OTHER"}, ""},
		{"ref on an existing thread", Event{Kind: EventRef, Ref: "summer-promo"}, "ref"},
		{"ref with get started", Event{Kind: EventGetStarted, Ref: "summer-promo"}, "ref"},
		{"other ref", Event{Kind: EventRef, Ref: "winter"}, ""},
		{"get started", Event{Kind: EventGetStarted}, "gs"},
		{"get started is not a text", Event{Kind: EventText, Text: "get started"}, ""},
		{"new conversation", Event{Kind: EventText, Text: "hello", NewConversation: true}, "new"},
		{"old conversation", Event{Kind: EventText, Text: "hello"}, ""},
		{"keyword beats conversation start at equal priority", Event{Kind: EventText, Text: "price?", NewConversation: true}, "kw"},
		{"keyword", Event{Kind: EventText, Text: "price?"}, "kw"},
		{"comment on the post", Event{Kind: EventComment, Text: "INFO please", PostID: "p1"}, "cm"},
		{"comment on another post", Event{Kind: EventComment, Text: "info please", PostID: "p2"}, ""},
		{"comment without the keyword", Event{Kind: EventComment, Text: "information", PostID: "p1"}, ""},
		{"keyword rules ignore comments", Event{Kind: EventComment, Text: "price", PostID: "p1"}, ""},
		{"comment rules ignore messages", Event{Kind: EventText, Text: "info"}, ""},
		{"no conversation start on comments", Event{Kind: EventComment, Text: "hi", PostID: "p1", NewConversation: true}, ""},
		{"unknown event kind", Event{Kind: "typing", Text: "price"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fired(m, tt.ev); got != tt.want {
				t.Errorf("fired %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnyCommentRule(t *testing.T) {
	m := compile(t,
		Rule{ID: "any", FlowID: "f1", Kind: KindComment, PostIDs: []string{"p1"}, Exclude: []string{"spam"}},
		Rule{ID: "info", FlowID: "f2", Kind: KindComment, Mode: ModeContains, Keywords: []string{"info"}, Priority: 5},
	)
	for _, tt := range []struct {
		ev   Event
		want string
	}{
		{Event{Kind: EventComment, Text: "nice!", PostID: "p1"}, "any"},
		{Event{Kind: EventComment, Text: "", PostID: "p1"}, "any"}, // a sticker
		{Event{Kind: EventComment, Text: "nice!", PostID: "p2"}, ""},
		{Event{Kind: EventComment, Text: "spam spam", PostID: "p1"}, ""},
		{Event{Kind: EventComment, Text: "info?", PostID: "p1"}, "info"},
	} {
		if got := fired(m, tt.ev); got != tt.want {
			t.Errorf("%+v: fired %q, want %q", tt.ev, got, tt.want)
		}
	}
}

func TestRank(t *testing.T) {
	tests := []struct {
		name  string
		rules []Rule
		ev    Event
		want  string
	}{
		{
			name:  "higher priority wins",
			rules: []Rule{kw("low", "a", ModeContains, 0, "price"), kw("high", "b", ModeContains, 5, "price")},
			ev:    text("price"), want: "high",
		},
		{
			name:  "priority beats kind",
			rules: []Rule{kw("kw", "a", ModeContains, 0, "hello"), {ID: "new", FlowID: "b", Kind: KindConversationStart, Priority: 1}},
			ev:    Event{Kind: EventText, Text: "hello", NewConversation: true}, want: "new",
		},
		{
			name:  "negative priority loses to zero",
			rules: []Rule{kw("neg", "a", ModeContains, -1, "price"), kw("zero", "b", ModeContains, 0, "pri")},
			ev:    text("price"), want: "zero",
		},
		{
			name:  "payload beats keyword at equal priority",
			rules: []Rule{kw("kw", "a", ModeContains, 0, "prices"), {ID: "pay", FlowID: "b", Kind: KindPayload, Payload: "P"}},
			ev:    Event{Kind: EventText, Text: "Prices", Payload: "P"}, want: "pay",
		},
		{
			name:  "ref beats get started at equal priority",
			rules: []Rule{{ID: "gs", FlowID: "a", Kind: KindGetStarted}, {ID: "ref", FlowID: "b", Kind: KindRef, Ref: "r"}},
			ev:    Event{Kind: EventGetStarted, Ref: "r"}, want: "ref",
		},
		{
			name:  "older flow wins a tie whatever the order given",
			rules: []Rule{kw("new", "0190-b", ModeContains, 0, "price"), kw("old", "0190-a", ModeContains, 0, "price")},
			ev:    text("price"), want: "old",
		},
		{
			name:  "same flow: first given wins",
			rules: []Rule{kw("first", "a", ModeContains, 0, "price"), kw("second", "a", ModeExact, 0, "price")},
			ev:    text("price"), want: "first",
		},
		{
			name:  "a lower-ranked rule fires when a better one does not match",
			rules: []Rule{kw("exact", "a", ModeExact, 9, "price"), kw("contains", "b", ModeContains, 0, "price")},
			ev:    text("the price"), want: "contains",
		},
		{
			name:  "keyword beats a regex below it",
			rules: []Rule{kw("re", "a", ModeRegex, 0, `pri.e`), kw("kw", "b", ModeContains, 1, "price")},
			ev:    text("price"), want: "kw",
		},
		{
			name:  "regex beats a keyword below it",
			rules: []Rule{kw("re", "a", ModeRegex, 1, `pri.e`), kw("kw", "b", ModeContains, 0, "price")},
			ev:    text("price"), want: "re",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := compile(t, tt.rules...)
			if got := fired(m, tt.ev); got != tt.want {
				t.Errorf("fired %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResultNamesTheKeyword(t *testing.T) {
	m := compile(t,
		kw("t1", "f1", ModeWholeWord, 3, "Cost", "PRICE", "how much"),
		kw("re", "f2", ModeRegex, 0, `^zzz$`, `order\s*\d+`),
		Rule{ID: "d", FlowID: "f3", Kind: KindDefault, Cooldown: time.Hour},
	)
	tests := []struct {
		text string
		want Result
	}{
		// Both "how much" and "price" occur; the first in authored order is named.
		{"how much is the price", Result{RuleID: "t1", FlowID: "f1", Kind: KindKeyword, Priority: 3, Keyword: "PRICE"}},
		{"order 77", Result{RuleID: "re", FlowID: "f2", Kind: KindKeyword, Keyword: `order\s*\d+`}},
		{"hello", Result{RuleID: "d", FlowID: "f3", Kind: KindDefault, Cooldown: time.Hour}},
	}
	for _, tt := range tests {
		got, ok := m.Match(text(tt.text))
		if !ok {
			t.Fatalf("%q: nothing fired", tt.text)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q: result (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestExclusions(t *testing.T) {
	m := compile(t,
		Rule{ID: "price", FlowID: "a", Kind: KindKeyword, Mode: ModeContains, Priority: 5,
			Keywords: []string{"price", "ราคา", "តម្លៃ"}, Exclude: []string{"NO", "not", "ไม่", "មិន"}},
		kw("fallback", "b", ModeContains, 0, "price"),
		Rule{ID: "re", FlowID: "c", Kind: KindKeyword, Mode: ModeRegex, Priority: 9, Keywords: []string{`^refund`}, Exclude: []string{"policy"}},
	)
	tests := []struct {
		text, want string
	}{
		{"price please", "price"},
		{"No price please", "fallback"},    // vetoed: the next rule fires
		{"know the price", "price"},        // exclusions are whole words: "know" is not "no"
		{"it's not the price", "fallback"}, // "it's" is one word; "not" is another
		{"ไม่เอาราคา", ""},                 // Thai: substring veto; "fallback" has no Thai keyword
		{"ราคาเท่าไหร่", "price"},
		{"មិនចង់ដឹងតម្លៃ", ""}, // Khmer veto
		{"refund please", "re"},
		{"refund policy?", ""}, // regex rules honour exclusions too
	}
	for _, tt := range tests {
		if got := fired(m, text(tt.text)); got != tt.want {
			t.Errorf("%q: fired %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestChannels(t *testing.T) {
	m := compile(t,
		Rule{ID: "ig", FlowID: "a", Kind: KindKeyword, Mode: ModeContains, Priority: 1, Keywords: []string{"price"}, Channels: []string{" Instagram "}},
		kw("all", "b", ModeContains, 0, "price"),
		Rule{ID: "wa-default", FlowID: "c", Kind: KindDefault, Priority: 1, Channels: []string{"whatsapp"}},
		Rule{ID: "default", FlowID: "d", Kind: KindDefault},
	)
	tests := []struct {
		ev   Event
		want string
	}{
		{Event{Kind: EventText, Text: "price", Channel: "instagram"}, "ig"},
		{Event{Kind: EventText, Text: "price", Channel: "INSTAGRAM"}, "ig"},
		{Event{Kind: EventText, Text: "price", Channel: "messenger"}, "all"},
		{Event{Kind: EventText, Text: "price"}, "all"},
		{Event{Kind: EventText, Text: "hello", Channel: "whatsapp"}, "wa-default"},
		{Event{Kind: EventText, Text: "hello", Channel: "messenger"}, "default"},
	}
	for _, tt := range tests {
		if got := fired(m, tt.ev); got != tt.want {
			t.Errorf("%+v: fired %q, want %q", tt.ev, got, tt.want)
		}
	}
}

func TestDefaultReply(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	m := compile(t,
		kw("kw", "a", ModeContains, 0, "price"),
		Rule{ID: "default", FlowID: "b", Kind: KindDefault, Cooldown: 24 * time.Hour},
		Rule{ID: "default-2", FlowID: "c", Kind: KindDefault, Priority: -1},
	)
	tests := []struct {
		name        string
		ev          Event
		want        string
		coolingDown bool
	}{
		{"nothing matched, never replied", Event{Kind: EventText, Text: "hello", Now: now}, "default", false},
		{"keyword matched", Event{Kind: EventText, Text: "price", Now: now}, "kw", false},
		{"attachment without text", Event{Kind: EventText, Now: now}, "default", false},
		{"unknown postback", Event{Kind: EventPayload, Payload: "OLD", Now: now}, "default", false},
		{"get started without a rule", Event{Kind: EventGetStarted, Now: now}, "default", false},
		{"ref without a rule", Event{Kind: EventRef, Ref: "x", Now: now}, "", false},
		{"comment", Event{Kind: EventComment, Text: "hello", Now: now}, "", false},
		{"within the cooldown", Event{Kind: EventText, Text: "hello", LastDefaultAt: now.Add(-time.Hour), Now: now}, "", true},
		{"cooldown just over", Event{Kind: EventText, Text: "hello", LastDefaultAt: now.Add(-24 * time.Hour), Now: now}, "default", false},
		{"clock missing: hold back", Event{Kind: EventText, Text: "hello", LastDefaultAt: now}, "", true},
		{"last reply in the future: hold back", Event{Kind: EventText, Text: "hello", LastDefaultAt: now.Add(time.Minute), Now: now}, "", true},
		{"keyword fires during the cooldown", Event{Kind: EventText, Text: "price", LastDefaultAt: now, Now: now}, "kw", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := m.Match(tt.ev)
			got := ""
			if ok {
				got = r.RuleID
			}
			if got != tt.want || r.CoolingDown != tt.coolingDown {
				t.Errorf("fired %q (cooling down %v), want %q (%v)", got, r.CoolingDown, tt.want, tt.coolingDown)
			}
			if r.CoolingDown && r.RuleID != "default" {
				t.Errorf("cooling down names %q, want the default rule", r.RuleID)
			}
		})
	}
}

func TestEmptyAndOversizedText(t *testing.T) {
	m := compile(t,
		kw("start", "a", ModeBeginsWith, 0, "price"),
		kw("late", "b", ModeContains, 0, "needle"),
		kw("re", "c", ModeRegex, 0, `haystack$`),
		kw("ws", "d", ModeExact, 0, "x"),
	)
	pad := strings.Repeat("a ", DefaultMaxTextBytes/2)
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", ""},
		{"white space only", " \t\n ", ""},
		{"invisible only", "\u200b\ufeff", ""},
		{"keyword at the start of a huge text", "price " + strings.Repeat("x", 1<<20), "start"},
		{"keyword past the examined bytes", pad + "needle", ""},
		{"keyword within the examined bytes", pad[:DefaultMaxTextBytes-20] + "needle", "late"},
		{"keyword cut in two by the limit", pad[:DefaultMaxTextBytes-3] + "needle", ""},
		{"regex sees only the examined bytes", pad + "haystack", ""},
		{"invalid utf-8", "\xff\xfex\xff", ""},
		{"invalid utf-8 around a keyword", "\xffneedle\xff", "late"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fired(m, text(tt.text)); got != tt.want {
				t.Errorf("fired %q, want %q", got, tt.want)
			}
		})
	}

	small, _, err := Compile([]Rule{kw("t", "a", ModeContains, 0, "needle")}, Options{MaxTextBytes: 8})
	if err != nil {
		t.Fatal(err)
	}
	if got := fired(small, text("1234needle")); got != "" {
		t.Errorf("MaxTextBytes 8: fired %q on a keyword past byte 8", got)
	}
	if got := fired(small, text("needle xyz")); got != "t" {
		t.Errorf("MaxTextBytes 8: fired %q, want t", got)
	}
}

func TestMatchAll(t *testing.T) {
	m := compile(t,
		kw("a", "f1", ModeContains, 0, "price"),
		kw("b", "f2", ModeWholeWord, 5, "price"),
		kw("c", "f3", ModeRegex, 1, `pri`),
		kw("d", "f4", ModeExact, 9, "nope"),
		Rule{ID: "new", FlowID: "f5", Kind: KindConversationStart},
		Rule{ID: "default", FlowID: "f6", Kind: KindDefault, Cooldown: time.Hour},
	)
	ids := func(rs []Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.RuleID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"b", "c", "a", "new"}, ids(m.MatchAll(Event{Kind: EventText, Text: "the price", NewConversation: true}))); diff != "" {
		t.Errorf("MatchAll (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"default"}, ids(m.MatchAll(text("hello")))); diff != "" {
		t.Errorf("MatchAll with nothing matched (-want +got):\n%s", diff)
	}
	now := time.Now()
	got := m.MatchAll(Event{Kind: EventText, Text: "hello", LastDefaultAt: now, Now: now})
	if len(got) != 1 || !got[0].CoolingDown {
		t.Errorf("MatchAll during cooldown = %+v, want the default rule cooling down", got)
	}
	if got := m.MatchAll(Event{Kind: EventComment, Text: "x"}); len(got) != 0 {
		t.Errorf("MatchAll on an unmatched comment = %+v, want nothing", got)
	}
}

// TestConcurrentMatch runs one matcher from several goroutines (run with
// -race): the pooled scratch must never leak between calls.
func TestConcurrentMatch(t *testing.T) {
	m := compile(t, BenchmarkRules(300)...)
	texts := BenchmarkTexts()
	want := make([]string, len(texts))
	for i, s := range texts {
		want[i] = fired(m, text(s))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := (i*7 + g) % len(texts)
				if got := fired(m, text(texts[k])); got != want[k] {
					errs <- fmt.Sprintf("text %d: fired %q, want %q", k, got, want[k])
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
