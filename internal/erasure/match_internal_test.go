package erasure

import (
	"strings"
	"testing"
)

// Jobs are matched on decoded JSON string values and whole key parts, so
// an ID that merely prefixes another, or appears as a number or a map
// key, is no match; a payload that is not JSON is matched on its bytes.
func TestJobMatching(t *testing.T) {
	ids := map[string]bool{"c1": true, "m-9": true}
	for _, tc := range []struct {
		name    string
		payload string
		key     *string
		want    bool
	}{
		{"inbox job", `{"ws":"w","id":"c1"}`, nil, true},
		{"nested", `{"ws":"w","batch":[{"id":"m-9"}]}`, nil, true},
		{"prefix only", `{"ws":"w","id":"c10"}`, nil, false},
		{"as a map key", `{"c1":"x"}`, nil, false},
		{"other", `{"ws":"w","id":"c2"}`, nil, false},
		{"not JSON, contains", `raw c1 bytes`, nil, true},
		{"not JSON, absent", `raw bytes`, nil, false},
		{"unique key part", `{"ws":"w"}`, ptr("inbox.profile:c1"), true},
		{"unique key prefix", `{"ws":"w"}`, ptr("inbox.profile:c10"), false},
		{"ordering key", `{"ws":"w"}`, ptr("m-9"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := payloadNames([]byte(tc.payload), ids) || keyNames(tc.key, ids); got != tc.want {
				t.Errorf("named = %v, want %v", got, tc.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// A delivery keeps other people's events and loses the erased person's;
// one that is only theirs, not JSON, not shaped like Meta's, or names
// them outside an event, is deleted whole (false).
func TestWithoutEvents(t *testing.T) {
	needles := [][]byte{[]byte(`"111"`)}
	for _, tc := range []struct {
		name, body string
		ok         bool
		keeps      string
	}{
		{"mixed", `{"object":"page","entry":[{"id":"p","messaging":[{"sender":{"id":"111"}},{"sender":{"id":"222"}}]}]}`, true, `"222"`},
		{"two entries", `{"object":"page","entry":[{"id":"p","messaging":[{"sender":{"id":"111"}}]},{"id":"p","standby":[{"sender":{"id":"333"}}]}]}`, true, `"333"`},
		{"only theirs", `{"object":"page","entry":[{"id":"p","messaging":[{"sender":{"id":"111"}}]}]}`, false, ""},
		{"not JSON", `sender 111`, false, ""},
		{"no entries", `{"object":"page","id":"111"}`, false, ""},
		{"entry not an object", `{"object":"page","entry":["111"]}`, false, ""},
		{"named outside events", `{"object":"page","entry":[{"id":"111","messaging":[{"sender":{"id":"222"}}]}]}`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := withoutEvents([]byte(tc.body), needles)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%s)", ok, tc.ok, out)
			}
			if ok && (strings.Contains(string(out), `"111"`) || !strings.Contains(string(out), tc.keeps)) {
				t.Errorf("kept %s", out)
			}
		})
	}
}
