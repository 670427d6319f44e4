package trigger

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// problemKey is what a test pins of a problem; messages are checked by
// substrings where their wording matters.
type problemKey struct {
	Severity Severity
	Code     string
	RuleID   string
	Field    string
}

func keys(ps []Problem) []problemKey {
	var out []problemKey
	for _, p := range ps {
		out = append(out, problemKey{p.Severity, p.Code, p.RuleID, p.Field})
	}
	return out
}

func TestCompileProblems(t *testing.T) {
	long := strings.Repeat("a", DefaultMaxKeywordBytes+1)
	tests := []struct {
		name    string
		rule    Rule
		want    []problemKey
		message string // a substring of the first problem's message
		kept    bool   // the rule is still in the matcher
	}{
		{
			name:    "bad regex",
			rule:    kw("t1", "f", ModeRegex, 0, `(abc`),
			want:    []problemKey{{SeverityError, CodeBadRegex, "t1", "keywords[0]"}, {SeverityError, CodeEmptyKeywords, "t1", "keywords"}},
			message: `regular expression “(abc” of trigger "t1" is invalid: missing closing ); it is ignored`,
		},
		{
			name:    "one bad regex among good ones",
			rule:    kw("t1", "f", ModeRegex, 0, `ok`, `a{2,1}`),
			want:    []problemKey{{SeverityError, CodeBadRegex, "t1", "keywords[1]"}},
			message: "invalid: invalid repeat count in “{2,1}”", kept: true,
		},
		{
			name:    "regex too long",
			rule:    kw("t1", "f", ModeRegex, 0, "ok", strings.Repeat("a", DefaultMaxPatternBytes+1)),
			want:    []problemKey{{SeverityError, CodeBadRegex, "t1", "keywords[1]"}},
			message: "longer than 512 bytes", kept: true,
		},
		{
			name:    "regex matching everything",
			rule:    kw("t1", "f", ModeRegex, 0, `.*`),
			want:    []problemKey{{SeverityWarning, CodeMatchesAll, "t1", "keywords[0]"}},
			message: "matches every message", kept: true,
		},
		{
			name:    "no keywords",
			rule:    kw("t1", "f", ModeContains, 0),
			want:    []problemKey{{SeverityError, CodeEmptyKeywords, "t1", "keywords"}},
			message: "has no usable keyword",
		},
		{
			name:    "keyword empty once normalized",
			rule:    kw("t1", "f", ModeContains, 0, " \u200b ", "price"),
			want:    []problemKey{{SeverityError, CodeEmptyKeyword, "t1", "keywords[0]"}},
			message: "empty once spaces and invisible characters are removed", kept: true,
		},
		{
			name:    "keyword too long",
			rule:    kw("t1", "f", ModeContains, 0, long),
			want:    []problemKey{{SeverityError, CodeKeywordTooLong, "t1", "keywords[0]"}, {SeverityError, CodeEmptyKeywords, "t1", "keywords"}},
			message: "longer than 512 bytes",
		},
		{
			name:    "exclusion vetoes the keyword itself",
			rule:    Rule{ID: "t1", FlowID: "f", Kind: KindKeyword, Mode: ModeContains, Keywords: []string{"no price"}, Exclude: []string{"No"}},
			want:    []problemKey{{SeverityWarning, CodeNeverFires, "t1", "keywords[0]"}},
			message: "can never fire", kept: true,
		},
		{
			name:    "empty exclusion",
			rule:    Rule{ID: "t1", FlowID: "f", Kind: KindKeyword, Mode: ModeContains, Keywords: []string{"price"}, Exclude: []string{""}},
			want:    []problemKey{{SeverityWarning, CodeEmptyKeyword, "t1", "exclude[0]"}},
			message: "exclusion word 1", kept: true,
		},
		{
			name:    "keyword starting with a mark",
			rule:    kw("t1", "f", ModeContains, 0, "\u17b6"),
			want:    []problemKey{{SeverityWarning, CodeMarkStart, "t1", "keywords[0]"}},
			message: "starts with a combining mark", kept: true,
		},
		{
			name:    "missing mode",
			rule:    Rule{ID: "t1", FlowID: "f", Kind: KindKeyword, Keywords: []string{"x"}},
			want:    []problemKey{{SeverityError, CodeInvalidRule, "t1", "mode"}},
			message: "needs a mode",
		},
		{
			name:    "unknown mode",
			rule:    Rule{ID: "t1", FlowID: "f", Kind: KindKeyword, Mode: "fuzzy", Keywords: []string{"x"}},
			want:    []problemKey{{SeverityError, CodeInvalidRule, "t1", "mode"}},
			message: `unknown mode "fuzzy"`,
		},
		{
			name:    "unknown kind",
			rule:    Rule{ID: "t1", FlowID: "f", Kind: "schedule"},
			want:    []problemKey{{SeverityError, CodeInvalidRule, "t1", "type"}},
			message: `unknown type "schedule"`,
		},
		{
			name: "no kind",
			rule: Rule{ID: "t1", FlowID: "f"},
			want: []problemKey{{SeverityError, CodeInvalidRule, "t1", "type"}},
		},
		{
			name: "no ID and no flow",
			rule: Rule{Kind: KindGetStarted},
			want: []problemKey{{SeverityError, CodeInvalidRule, "", "id"}, {SeverityError, CodeInvalidRule, "", "flow_id"}},
		},
		{
			name:    "payload rule without payload",
			rule:    Rule{ID: "t1", FlowID: "f", Kind: KindPayload, Payload: "  "},
			want:    []problemKey{{SeverityError, CodeInvalidRule, "t1", "payload"}},
			message: "has no payload",
		},
		{
			name: "ref rule without ref",
			rule: Rule{ID: "t1", FlowID: "f", Kind: KindRef},
			want: []problemKey{{SeverityError, CodeInvalidRule, "t1", "ref"}},
		},
		{
			name: "negative cooldown",
			rule: Rule{ID: "t1", FlowID: "f", Kind: KindDefault, Cooldown: -time.Second},
			want: []problemKey{{SeverityError, CodeInvalidRule, "t1", "cooldown"}},
		},
		{
			name: "fields the kind ignores",
			rule: Rule{ID: "t1", FlowID: "f", Kind: KindGetStarted, Keywords: []string{"x"}, Exclude: []string{"y"}, PostIDs: []string{"p"}, Cooldown: time.Hour},
			want: []problemKey{
				{SeverityWarning, CodeIgnoredField, "t1", "keywords"}, {SeverityWarning, CodeIgnoredField, "t1", "exclude"},
				{SeverityWarning, CodeIgnoredField, "t1", "post_ids"}, {SeverityWarning, CodeIgnoredField, "t1", "cooldown"},
			},
			kept: true,
		},
		{
			name: "a valid rule has no problems",
			rule: kw("t1", "f", ModeWholeWord, 0, "price", "ราคา"),
			kept: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, probs, err := Compile([]Rule{tt.rule}, Options{})
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if diff := cmp.Diff(tt.want, keys(probs)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%+v", diff, probs)
			}
			if tt.message != "" && (len(probs) == 0 || !strings.Contains(probs[0].Message, tt.message)) {
				t.Errorf("first problem = %+v, want a message containing %q", probs, tt.message)
			}
			if kept := len(m.rules) == 1; kept != tt.kept {
				t.Errorf("rule kept = %v, want %v", kept, tt.kept)
			}
		})
	}
}

func TestCompileLeavesOutOnlyTheBadRule(t *testing.T) {
	m, probs, err := Compile([]Rule{
		kw("bad", "a", ModeRegex, 9, `[`),
		kw("good", "b", ModeContains, 0, "price"),
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) == 0 {
		t.Fatal("no problem reported for the bad regex")
	}
	if got := fired(m, text("price [")); got != "good" {
		t.Errorf("fired %q, want good", got)
	}
}

func TestCompileDuplicateRule(t *testing.T) {
	m, probs, err := Compile([]Rule{
		kw("t1", "a", ModeContains, 0, "first"),
		kw("t1", "a", ModeContains, 0, "second"),
		kw("t1", "b", ModeContains, 0, "other flow, same trigger ID"),
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]problemKey{{SeverityError, CodeDuplicateRule, "t1", ""}}, keys(probs)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if got := fired(m, text("second")); got != "" {
		t.Errorf("the duplicate fired %q", got)
	}
	if got, _ := m.Match(text("other flow, same trigger ID")); got.FlowID != "b" {
		t.Errorf("the same trigger ID in another flow did not fire: %+v", got)
	}
}

func TestCompileErrors(t *testing.T) {
	if _, _, err := Compile(nil, Options{MaxTextBytes: -1}); err == nil || !strings.Contains(err.Error(), "MaxTextBytes is negative") {
		t.Errorf("negative option: err = %v", err)
	}
	rules := []Rule{kw("a", "f", ModeContains, 0, "x"), kw("b", "f", ModeContains, 0, "y")}
	if _, _, err := Compile(rules, Options{MaxRules: 1}); err == nil || !strings.Contains(err.Error(), "2 rules, more than the limit of 1") {
		t.Errorf("too many rules: err = %v", err)
	}
	m, probs, err := Compile(nil, Options{})
	if err != nil || len(probs) != 0 {
		t.Fatalf("no rules: %v %v", probs, err)
	}
	if _, ok := m.Match(text("anything")); ok {
		t.Error("an empty matcher fired")
	}
}

func TestConflicts(t *testing.T) {
	welcome := func(r Rule) Rule { r.FlowID, r.FlowName = "0190-a", "Welcome"; return r }
	promo := func(r Rule) Rule { r.FlowID, r.FlowName = "0190-b", "Promo"; return r }
	tests := []struct {
		name  string
		rules []Rule
		want  []string // messages
	}{
		{
			name:  "same keyword in two flows",
			rules: []Rule{promo(kw("t2", "", ModeContains, 10, "Price")), welcome(kw("t1", "", ModeContains, 10, "price"))},
			want: []string{"the keyword “price” (flow “Welcome”, trigger t1) and the keyword “Price” (flow “Promo”, trigger t2) " +
				"both match the message “price” at priority 10; flow “Welcome” wins because it was created first"},
		},
		{
			name:  "contains and a longer exact keyword",
			rules: []Rule{welcome(kw("t1", "", ModeContains, 10, "price")), promo(kw("t2", "", ModeExact, 10, "price list"))},
			want: []string{"the keyword “price list” (flow “Promo”, trigger t2) and the keyword “price” (flow “Welcome”, trigger t1) " +
				"both match the message “price list” at priority 10; flow “Welcome” wins because it was created first"},
		},
		{
			name:  "keyword and a regex",
			rules: []Rule{welcome(kw("t1", "", ModeRegex, 0, `^pri`)), promo(kw("t2", "", ModeWholeWord, 0, "price"))},
			want: []string{"the keyword “price” (flow “Promo”, trigger t2) and the regular expression “^pri” (flow “Welcome”, trigger t1) " +
				"both match the message “price” at priority 0; flow “Welcome” wins because it was created first"},
		},
		{
			name:  "same payload",
			rules: []Rule{welcome(Rule{ID: "t1", Kind: KindPayload, Payload: "PRICES"}), promo(Rule{ID: "t2", Kind: KindPayload, Payload: "PRICES"})},
			want: []string{"the payload trigger (flow “Welcome”, trigger t1) and the payload trigger (flow “Promo”, trigger t2) " +
				"both answer the payload “PRICES” at priority 0; flow “Welcome” wins because it was created first"},
		},
		{
			name:  "two get started",
			rules: []Rule{welcome(Rule{ID: "t1", Kind: KindGetStarted}), promo(Rule{ID: "t2", Kind: KindGetStarted})},
			want:  []string{"the get_started trigger (flow “Welcome”, trigger t1) and the get_started trigger (flow “Promo”, trigger t2) both answer Get Started at priority 0; flow “Welcome” wins because it was created first"},
		},
		{
			name:  "two defaults",
			rules: []Rule{welcome(Rule{ID: "t1", Kind: KindDefault}), promo(Rule{ID: "t2", Kind: KindDefault})},
			want:  []string{"the default trigger (flow “Welcome”, trigger t1) and the default trigger (flow “Promo”, trigger t2) are both the default reply at priority 0; flow “Welcome” wins because it was created first"},
		},
		{
			name:  "two any-comment rules on the same post",
			rules: []Rule{welcome(Rule{ID: "t1", Kind: KindComment, PostIDs: []string{"p"}}), promo(Rule{ID: "t2", Kind: KindComment, Mode: ModeContains, Keywords: []string{"info"}})},
			want: []string{"the comment keyword “info” (flow “Promo”, trigger t2) and the any-comment trigger (flow “Welcome”, trigger t1) " +
				"both match the message “info” at priority 0; flow “Welcome” wins because it was created first"},
		},
		// No conflict:
		{name: "different priorities", rules: []Rule{welcome(kw("t1", "", ModeContains, 1, "price")), promo(kw("t2", "", ModeContains, 0, "price"))}},
		{name: "same flow", rules: []Rule{welcome(kw("t1", "", ModeContains, 0, "price")), welcome(kw("t2", "", ModeExact, 0, "price"))}},
		{name: "unrelated keywords", rules: []Rule{welcome(kw("t1", "", ModeContains, 0, "price")), promo(kw("t2", "", ModeContains, 0, "shipping"))}},
		{name: "whole word not inside the other", rules: []Rule{welcome(kw("t1", "", ModeWholeWord, 0, "price")), promo(kw("t2", "", ModeExact, 0, "prices"))}},
		{name: "two regexes are not compared", rules: []Rule{welcome(kw("t1", "", ModeRegex, 0, "a")), promo(kw("t2", "", ModeRegex, 0, "a"))}},
		{
			name: "exclusion separates them",
			rules: []Rule{
				welcome(Rule{ID: "t1", Kind: KindKeyword, Mode: ModeContains, Keywords: []string{"price"}, Exclude: []string{"list"}}),
				promo(kw("t2", "", ModeExact, 0, "price list")),
			},
		},
		{
			name: "different channels",
			rules: []Rule{
				welcome(Rule{ID: "t1", Kind: KindKeyword, Mode: ModeContains, Keywords: []string{"price"}, Channels: []string{"messenger"}}),
				promo(Rule{ID: "t2", Kind: KindKeyword, Mode: ModeContains, Keywords: []string{"price"}, Channels: []string{"instagram"}}),
			},
		},
		{
			name: "comments on different posts",
			rules: []Rule{
				welcome(Rule{ID: "t1", Kind: KindComment, Mode: ModeContains, Keywords: []string{"info"}, PostIDs: []string{"p1"}}),
				promo(Rule{ID: "t2", Kind: KindComment, Mode: ModeContains, Keywords: []string{"info"}, PostIDs: []string{"p2"}}),
			},
		},
		{
			name: "a keyword its own rule vetoes",
			rules: []Rule{
				welcome(Rule{ID: "t1", Kind: KindKeyword, Mode: ModeContains, Keywords: []string{"no price"}, Exclude: []string{"no"}}),
				promo(kw("t2", "", ModeContains, 0, "price")),
			},
		},
		{name: "different payloads", rules: []Rule{welcome(Rule{ID: "t1", Kind: KindPayload, Payload: "A"}), promo(Rule{ID: "t2", Kind: KindPayload, Payload: "B"})}},
		{name: "different kinds", rules: []Rule{welcome(Rule{ID: "t1", Kind: KindConversationStart}), promo(kw("t2", "", ModeContains, 0, "hi"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, probs, err := Compile(tt.rules, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range probs {
				if p.Code == CodeConflict {
					got = append(got, p.Message)
					if p.Severity != SeverityWarning || p.OtherFlowID != "0190-a" || p.FlowID != "0190-b" {
						t.Errorf("conflict %+v: want a warning on the Promo rule naming the Welcome rule", p)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
			// What the message promises is what Match does.
			if len(tt.want) > 0 && tt.rules[0].Kind == KindKeyword {
				r, _ := m.Match(text(strings.Split(strings.Split(tt.want[0], "message “")[1], "”")[0]))
				if r.FlowID != "0190-a" {
					t.Errorf("Match picked flow %q, the message says Welcome wins", r.FlowID)
				}
			}
		})
	}
}

func TestConflictsAreCapped(t *testing.T) {
	var rules []Rule
	for i := 0; i < 6; i++ {
		rules = append(rules, kw("t", string(rune('a'+i)), ModeContains, 0, "price"))
	}
	_, probs, err := Compile(rules, Options{MaxConflicts: 3})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, p := range probs {
		codes = append(codes, p.Code)
	}
	want := []string{CodeConflict, CodeConflict, CodeConflict, CodeTooManyConflict}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if last := probs[len(probs)-1].Message; !strings.HasPrefix(last, "12 more conflicts") {
		t.Errorf("summary = %q, want 12 more (15 pairs, 3 listed)", last)
	}
}
