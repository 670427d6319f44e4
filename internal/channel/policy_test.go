package channel

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Promise P-16: replies honour Messenger's messaging window and tag rules.
func TestDecideMessenger(t *testing.T) {
	last := time.Date(2026, 11, 21, 14, 5, 0, 0, time.UTC)
	standardEnds := last.Add(24 * time.Hour)
	humanEnds := last.Add(7 * 24 * time.Hour)
	facts := func(elapsed time.Duration, human bool) Facts {
		return Facts{Type: Messenger, Now: last.Add(elapsed), LastInboundAt: last, Human: human, TokenState: TokenOK, ContactName: "Dara"}
	}
	tests := []struct {
		name  string
		facts Facts
		want  Decision
	}{
		{"just after writing", facts(0, false),
			Decision{Allowed: true, MessagingType: MessagingResponse, WindowEnds: standardEnds}},
		{"clock drift: inbound in the future", facts(-time.Minute, false),
			Decision{Allowed: true, MessagingType: MessagingResponse, WindowEnds: standardEnds}},
		{"automated, 1ns before 24h", facts(24*time.Hour-time.Nanosecond, false),
			Decision{Allowed: true, MessagingType: MessagingResponse, WindowEnds: standardEnds}},
		{"human inside 24h uses RESPONSE, no tag", facts(time.Hour, true),
			Decision{Allowed: true, MessagingType: MessagingResponse, WindowEnds: standardEnds}},
		{"automated at exactly 24h", facts(24*time.Hour, false),
			Decision{Reason: ReasonWindowClosed, WindowEnds: humanEnds}},
		{"automated after 3 days", facts(72*time.Hour, false),
			Decision{Reason: ReasonWindowClosed, WindowEnds: humanEnds}},
		{"human at exactly 24h", facts(24*time.Hour, true),
			Decision{Allowed: true, MessagingType: MessagingTag, Tag: TagHumanAgent, WindowEnds: humanEnds}},
		{"human 1ns before 7d", facts(7*24*time.Hour-time.Nanosecond, true),
			Decision{Allowed: true, MessagingType: MessagingTag, Tag: TagHumanAgent, WindowEnds: humanEnds}},
		{"human at exactly 7d", facts(7*24*time.Hour, true),
			Decision{Reason: ReasonHumanWindowClosed}},
		{"automated at exactly 7d", facts(7*24*time.Hour, false),
			Decision{Reason: ReasonHumanWindowClosed}},
		{"never messaged", Facts{Type: Messenger, Now: last, Human: true, TokenState: TokenOK},
			Decision{Reason: ReasonNeverMessaged}},
		{"unreachable inside the window", func() Facts { f := facts(time.Minute, true); f.Unreachable = true; return f }(),
			Decision{Reason: ReasonUnreachable}},
		{"needs reconnect wins over everything", func() Facts {
			f := facts(time.Minute, true)
			f.Unreachable = true
			f.TokenState = TokenNeedsReconnect
			return f
		}(), Decision{Reason: ReasonNeedsReconnect}},
		{"empty token state is not a reconnect", func() Facts { f := facts(time.Minute, false); f.TokenState = ""; return f }(),
			Decision{Allowed: true, MessagingType: MessagingResponse, WindowEnds: standardEnds}},
		{"unknown channel type", func() Facts { f := facts(time.Minute, false); f.Type = "fax"; return f }(),
			Decision{Reason: ReasonUnsupported}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.facts)
			if got.Explanation == "" {
				t.Error("Explanation is empty")
			}
			got.Explanation = ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideExplanations(t *testing.T) {
	last := time.Date(2026, 11, 21, 14, 5, 0, 0, time.UTC)
	tests := []struct {
		name  string
		facts Facts
		want  string
	}{
		{"window closed names the person and the deadline",
			Facts{Type: Messenger, Now: last.Add(30 * time.Hour), LastInboundAt: last, ContactName: "Dara"},
			"More than 24 hours have passed since Dara last wrote. Only a person can reply, until Nov 28, 14:05 UTC."},
		{"inside the window",
			Facts{Type: Messenger, Now: last.Add(time.Hour), LastInboundAt: last, ContactName: "Dara"},
			"Dara wrote in the last 24 hours. Replies are open until Nov 22, 14:05 UTC."},
		{"human agent",
			Facts{Type: Messenger, Now: last.Add(30 * time.Hour), LastInboundAt: last, Human: true, ContactName: "Dara"},
			"More than 24 hours have passed since Dara last wrote. You can still reply in person until Nov 28, 14:05 UTC."},
		{"no name",
			Facts{Type: Messenger, Now: last, ContactName: ""},
			"This person has never written to this Page. On Messenger, a business can only reply after the person writes first."},
		{"deadline in the same year omits it",
			Facts{Type: Messenger, Now: time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC), LastInboundAt: time.Date(2026, 12, 29, 12, 0, 0, 0, time.UTC), ContactName: "Dara"},
			"Dara wrote in the last 24 hours. Replies are open until Dec 30, 12:00 UTC."},
		{"deadline next year",
			Facts{Type: Messenger, Now: time.Date(2026, 12, 31, 13, 0, 0, 0, time.UTC), LastInboundAt: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), ContactName: "Dara"},
			"Dara wrote in the last 24 hours. Replies are open until Jan 1 2027, 12:00 UTC."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.facts).Explanation; got != tt.want {
				t.Errorf("Explanation = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecideUsesUTC(t *testing.T) {
	phnomPenh := time.FixedZone("ICT", 7*3600)
	last := time.Date(2026, 11, 21, 21, 5, 0, 0, phnomPenh) // 14:05 UTC
	d := Decide(Facts{Type: Messenger, Now: last.Add(30 * time.Hour), LastInboundAt: last, ContactName: "Dara"})
	if d.WindowEnds.Location() != time.UTC {
		t.Errorf("WindowEnds location = %v, want UTC", d.WindowEnds.Location())
	}
	if !strings.Contains(d.Explanation, "Nov 28, 14:05 UTC") {
		t.Errorf("Explanation = %q, want the deadline in UTC", d.Explanation)
	}
}
