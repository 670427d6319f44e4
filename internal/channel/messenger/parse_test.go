package messenger

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/channel"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestParseGolden decodes every fixture under testdata/parse (real payload
// shapes from meta-platform.md §2.2: Meta's docs, Bottender's and
// Chatwoot's test suites) and compares the normalized batch with its
// .golden file. Run with -update after a deliberate change, then read the
// diff.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkInvariants(t, b)
			got, err := json.MarshalIndent(b, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".json") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("batch differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// checkInvariants holds for every batch Parse returns, whatever the input.
func checkInvariants(t *testing.T, b Batch) {
	t.Helper()
	if b.Object != "page" {
		t.Errorf("Object = %q", b.Object)
	}
	if len(b.Events) > MaxEvents {
		t.Errorf("%d events, more than MaxEvents", len(b.Events))
	}
	counts := map[string]int{}
	for i, e := range b.Events {
		if e.Type != channel.Messenger || e.Kind == "" || e.AccountID == "" {
			t.Errorf("event %d lacks type, kind or account: %+v", i, e)
		}
		if e.UserID == "" && e.Kind != channel.EventPolicy {
			t.Errorf("event %d (%s) has no UserID", i, e.Kind)
		}
		if e.At.Location() != time.UTC || e.Watermark.Location() != time.UTC {
			t.Errorf("event %d times not in UTC: %v %v", i, e.At, e.Watermark)
		}
		if e.MID != "" && e.Key != "" {
			t.Errorf("event %d has both MID and Key", i)
		}
		counts[e.AccountID]++
	}
	if diff := cmp.Diff(counts, b.Accounts); diff != "" && (len(counts) > 0 || len(b.Accounts) > 0) {
		t.Errorf("Accounts does not count Events (-events +Accounts):\n%s", diff)
	}
}

// The golden files pin every field; these spot checks say in code what
// matters most, so a careless -update cannot hide a regression.
func TestParseSpotChecks(t *testing.T) {
	parse := func(t *testing.T, name string) Batch {
		t.Helper()
		raw, err := os.ReadFile("testdata/parse/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(raw)
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		return b
	}
	one := func(t *testing.T, name string) channel.Inbound {
		t.Helper()
		b := parse(t, name)
		if len(b.Events) != 1 {
			t.Fatalf("%s: %d events, want 1 (skipped %d)", name, len(b.Events), b.Skipped)
		}
		return b.Events[0]
	}
	const page, user = "404217156637689", "1423587017700273"

	t.Run("quick reply", func(t *testing.T) {
		e := one(t, "text_quick_reply")
		want := channel.Inbound{Type: channel.Messenger, Kind: channel.EventMessage, AccountID: page, UserID: user,
			At: time.UnixMilli(1491798262319).UTC(), MID: "mid.$cAAE1UUyiiwthh2BKL1bVhsBhVxvm",
			Content: channel.Content{Text: "Red", Payload: "DEVELOPER_DEFINED_PAYLOAD_FOR_PICKING_RED"}}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("khmer text survives", func(t *testing.T) {
		if e := one(t, "khmer_text"); e.Content.Text != "សួស្តី ខ្ញុំចង់ទិញ" {
			t.Errorf("Text = %q", e.Content.Text)
		}
	})
	t.Run("sticker id from a JSON number", func(t *testing.T) {
		if e := one(t, "sticker"); e.Content.StickerID != "369239343222814" || len(e.Content.Attachments) != 1 {
			t.Errorf("sticker = %q, attachments %v", e.Content.StickerID, e.Content.Attachments)
		}
	})
	t.Run("fallback with uppercase URL key", func(t *testing.T) {
		a := one(t, "fallback").Content.Attachments
		want := []channel.Attachment{{Type: channel.AttachFallback, URL: "URL_OF_THE_ATTACHMENT", Title: "TITLE_OF_THE_URL_ATTACHMENT"}}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("echo routes by sender, app id number", func(t *testing.T) {
		e := one(t, "echo_bottender")
		if e.Kind != channel.EventEcho || e.AccountID != page || e.UserID != user || e.AppID != "205552219930699" {
			t.Errorf("echo = %+v", e)
		}
		if !OwnApp("205552219930699", e) || OwnApp("1", e) || OwnApp("", e) {
			t.Error("OwnApp misjudges the echo")
		}
	})
	t.Run("echo app id string and metadata", func(t *testing.T) {
		e := one(t, "echo_string_app_id_metadata")
		if e.AppID != "1517776481860111" || e.Metadata != "parley:0190f3a2-msg" {
			t.Errorf("echo = %+v", e)
		}
	})
	t.Run("echo from Meta's inbox has no app", func(t *testing.T) {
		if e := one(t, "echo_human_inbox"); e.AppID != "" || OwnApp("1517776481860111", e) {
			t.Errorf("echo = %+v", e)
		}
	})
	t.Run("postback without mid gets a key", func(t *testing.T) {
		e := one(t, "postback_referral")
		if e.Kind != channel.EventPostback || e.MID != "" || len(e.Key) != 64 {
			t.Errorf("postback = %+v", e)
		}
		if e.Content.Referral == nil || e.Content.Referral.Ref != "aaaa" || e.Content.Postback.Payload != "__GET_STARTED__" {
			t.Errorf("content = %+v", e.Content)
		}
	})
	t.Run("postback with mid has no key", func(t *testing.T) {
		if e := one(t, "postback_mid"); e.MID != "m_postback_1" || e.Key != "" {
			t.Errorf("postback = %+v", e)
		}
	})
	t.Run("watermark number and string", func(t *testing.T) {
		d := one(t, "delivery")
		if d.Watermark != time.UnixMilli(1458668856253).UTC() || len(d.MIDs) != 1 || d.Key != "" {
			t.Errorf("delivery = %+v", d)
		}
		if d.At != time.UnixMilli(1458668856300).UTC() {
			t.Errorf("delivery without timestamp: At = %v, want the entry time", d.At)
		}
		if s := one(t, "delivery_string_watermark"); s.Watermark != time.UnixMilli(1648581633369).UTC() {
			t.Errorf("string watermark = %v", s.Watermark)
		}
	})
	t.Run("ad referral id from a number", func(t *testing.T) {
		if r := one(t, "referral_ad").Content.Referral; r == nil || r.AdID != "23842536486730000" || r.Source != "ADS" {
			t.Errorf("referral = %+v", r)
		}
	})
	t.Run("plugin referral origin", func(t *testing.T) {
		if r := one(t, "referral_plugin").Content.Referral; r == nil || r.OriginDomain != "https://test.domain.tw/" {
			t.Errorf("referral = %+v", r)
		}
	})
	t.Run("location", func(t *testing.T) {
		a := one(t, "location").Content.Attachments
		if len(a) != 1 || a[0].Type != channel.AttachLocation || a[0].Latitude != 11.5564 || a[0].Longitude != 104.9282 {
			t.Errorf("location = %+v", a)
		}
	})
	t.Run("policy enforcement has no person", func(t *testing.T) {
		e := one(t, "policy_enforcement")
		if e.Kind != channel.EventPolicy || e.Policy == nil || e.Policy.Action != "block" || e.UserID != "" || e.AccountID != page {
			t.Errorf("policy = %+v", e)
		}
	})
	t.Run("handover request", func(t *testing.T) {
		h := one(t, "handover_request").Handover
		if h == nil || h.Kind != channel.HandoverRequest || h.NewOwnerAppID != "263902037430900" {
			t.Errorf("handover = %+v", h)
		}
	})
	t.Run("standby", func(t *testing.T) {
		if e := one(t, "standby"); !e.Standby || e.Kind != channel.EventMessage {
			t.Errorf("standby = %+v", e)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		e := one(t, "deleted")
		if e.Kind != channel.EventDeleted || e.MID != "" || len(e.MIDs) != 1 || e.MIDs[0] != "m_deleted" || e.Key == "" {
			t.Errorf("deleted = %+v", e)
		}
	})
	t.Run("dashboard test and feed are skipped", func(t *testing.T) {
		for _, name := range []string{"dashboard_test", "feed_change"} {
			if b := parse(t, name); len(b.Events) != 0 || b.Skipped != 1 {
				t.Errorf("%s: %d events, %d skipped", name, len(b.Events), b.Skipped)
			}
		}
	})
	t.Run("unknown events are skipped, the good one kept", func(t *testing.T) {
		b := parse(t, "unknown_events")
		if len(b.Events) != 1 || b.Events[0].MID != "m_ok" || b.Skipped != 5 {
			t.Errorf("%d events, %d skipped", len(b.Events), b.Skipped)
		}
	})
	t.Run("batch of several pages", func(t *testing.T) {
		b := parse(t, "batch")
		want := map[string]int{"111": 2, "222": 2}
		if diff := cmp.Diff(want, b.Accounts); diff != "" || len(b.Events) != 4 || b.Skipped != 1 {
			t.Errorf("accounts (-want +got):\n%s\nevents %d skipped %d", diff, len(b.Events), b.Skipped)
		}
		if b.Events[2].UserID != "333" || !b.Events[3].Standby || b.Events[2].Standby {
			t.Errorf("events = %+v", b.Events)
		}
	})
}

func TestParseKeys(t *testing.T) {
	mk := func(ts int64, payload string) []byte {
		return fmt.Appendf(nil, `{"object":"page","entry":[{"id":"1","time":1,"messaging":[
			{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":%d,"postback":{"title":"t","payload":%q}}]}]}`, ts, payload)
	}
	keyOf := func(raw []byte) string {
		b, err := Parse(raw)
		if err != nil || len(b.Events) != 1 {
			t.Fatalf("Parse: %v %+v", err, b)
		}
		return b.Events[0].Key
	}
	a := keyOf(mk(1000, "P"))
	if a != keyOf(mk(1000, "P")) {
		t.Error("a redelivery gets a different key")
	}
	if a == keyOf(mk(1001, "P")) || a == keyOf(mk(1000, "Q")) {
		t.Error("different postbacks share a key")
	}
	react := func(action string) string {
		return keyOf(fmt.Appendf(nil, `{"object":"page","entry":[{"id":"1","messaging":[
			{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":5,"reaction":{"action":%q,"emoji":"x","mid":"m"}}]}]}`, action))
	}
	if react("react") == react("unreact") {
		t.Error("react and unreact share a key")
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"not json", "hello"},
		{"array", `[{"object":"page"}]`},
		{"string", `"page"`},
		{"truncated", `{"object":"page","entry":[`},
		{"instagram", `{"object":"instagram","entry":[]}`},
		{"whatsapp", `{"object":"whatsapp_business_account","entry":[]}`},
		{"object missing", `{"entry":[]}`},
		{"object number", `{"object":1,"entry":[]}`},
		{"too deep", `{"object":"page","entry":[` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.raw))
			var pe *PayloadError
			if !errors.As(err, &pe) {
				t.Errorf("Parse = %v, want *PayloadError", err)
			}
		})
	}
}

func TestParseTolerates(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		skipped int
	}{
		{"no entry", `{"object":"page"}`, 0},
		{"entry not an array", `{"object":"page","entry":{"id":"1"}}`, 1},
		{"entry item not an object", `{"object":"page","entry":[1,"x",null]}`, 2},
		{"messaging item not an object", `{"object":"page","entry":[{"id":"1","messaging":[7]}]}`, 1},
		{"id with a fraction", `{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":1.5},"recipient":{"id":"1"},"message":{"mid":"m"}}]}]}`, 1},
		{"no sender", `{"object":"page","entry":[{"id":"1","messaging":[{"recipient":{"id":"1"},"message":{"mid":"m"}}]}]}`, 1},
		{"depth at the limit", `{"object":"page","x":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, 0},
		{"brackets inside strings do not count", `{"object":"page","x":"` + strings.Repeat("[{\\\"", 100) + `"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse([]byte(tt.raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(b.Events) != 0 || b.Skipped != tt.skipped {
				t.Errorf("events %d skipped %d, want 0 and %d", len(b.Events), b.Skipped, tt.skipped)
			}
		})
	}
}

func TestParseBoundsEvents(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString(`{"object":"page","entry":[{"id":"1","time":1,"messaging":[`)
	const n = MaxEvents + 7
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"sender":{"id":"u"},"recipient":{"id":"1"},"timestamp":1,"read":{"watermark":%d}}`, i+1)
	}
	buf.WriteString(`]}]}`)
	b, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != MaxEvents || b.Skipped != 7 || b.Accounts["1"] != MaxEvents {
		t.Errorf("events %d skipped %d", len(b.Events), b.Skipped)
	}
}

// FuzzParse: whatever the body, Parse never panics, and every event it
// returns can be routed and stored (security.md §3.K).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/parse/*.json")
	for _, file := range files {
		if raw, err := os.ReadFile(file); err == nil && !strings.HasSuffix(file, ".golden.json") {
			f.Add(raw)
		}
	}
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"message":{"is_echo":true}}]}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := Parse(raw)
		if err != nil {
			var pe *PayloadError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *PayloadError: %v", err)
			}
			return
		}
		checkInvariants(t, b)
	})
}
