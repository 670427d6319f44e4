package flow

import (
	"testing"
	"time"
)

func TestCheckAnswers(t *testing.T) {
	ptr := func(f float64) *float64 { return &f }
	text := &QuestionNode{Answer: AnswerText, Next: "n"}
	email := &QuestionNode{Answer: AnswerEmail, Next: "n"}
	phoneKH := &QuestionNode{Answer: AnswerPhone, Region: "KH", Next: "n"}
	phoneAny := &QuestionNode{Answer: AnswerPhone, Next: "n"}
	number := &QuestionNode{Answer: AnswerNumber, Next: "n"}
	bounded := &QuestionNode{Answer: AnswerNumber, Min: ptr(1), Max: ptr(10), Next: "n"}
	dmy := &QuestionNode{Answer: AnswerDate, Next: "n"}
	mdy := &QuestionNode{Answer: AnswerDate, DateOrder: DateMDY, Next: "n"}
	choice := &QuestionNode{Answer: AnswerChoice, Next: "n", Choices: []Choice{
		{Title: "Small", Value: "s", Next: "small"}, {Title: "ធំ", Value: "large"}, {Title: "Medium"},
	}}
	unknown := &QuestionNode{Answer: "colour", Next: "n"}
	tests := []struct {
		name          string
		q             *QuestionNode
		text, payload string
		want          string // "" = invalid
		next          string
	}{
		{"text", text, "  Sokha Chan  ", "", "Sokha Chan", "n"},
		{"text Khmer", text, "សុខា", "", "សុខា", "n"},
		{"empty text", text, "   ", "", "", ""},
		{"email", email, " name@example.com ", "", "name@example.com", "n"},
		{"email full-width at", email, "name＠example.com", "", "name@example.com", "n"},
		{"email invalid", email, "name at example", "", "", ""},
		{"email with name", email, "Bob <bob@example.com>", "", "", ""},
		{"phone local KH", phoneKH, "012 345 678", "", "+85512345678", "n"},
		{"phone Khmer digits", phoneKH, "០១២ ៣៤៥ ៦៧៨", "", "+85512345678", "n"},
		{"phone international", phoneKH, "+855 12 345 678", "", "+85512345678", "n"},
		{"phone other country", phoneKH, "+1 650 253 0000", "", "+16502530000", "n"},
		{"phone too short", phoneKH, "12345", "", "", ""},
		{"phone letters", phoneKH, "call me", "", "", ""},
		{"phone no region, local", phoneAny, "012 345 678", "", "", ""},
		{"phone no region, international", phoneAny, "+85512345678", "", "+85512345678", "n"},
		{"phone very long", phoneKH, "+855" + string(make([]byte, 80)), "", "", ""},
		{"number", number, "42", "", "42", "n"},
		{"number negative decimal", number, "-3.5", "", "-3.5", "n"},
		{"number thousands", number, "1,234.5", "", "1234.5", "n"},
		{"number decimal comma", number, "1.234,5", "", "1234.5", "n"},
		{"number comma decimal", number, "3,5", "", "3.5", "n"},
		{"number comma thousands", number, "1,000", "", "1000", "n"},
		{"number spaces", number, "1 000 000", "", "1000000", "n"},
		{"number Khmer", number, "១២៣", "", "123", "n"},
		{"number Thai", number, "๔๒", "", "42", "n"},
		{"number Devanagari", number, "४२", "", "42", "n"},
		{"number full-width", number, "４２", "", "42", "n"},
		{"number minus sign", number, "−7", "", "-7", "n"},
		{"number words", number, "forty", "", "", ""},
		{"number Inf", number, "Inf", "", "", ""},
		{"number NaN", number, "NaN", "", "", ""},
		{"number hex", number, "0x10", "", "", ""},
		{"number exponent", number, "1e9", "", "", ""},
		{"number two dots and comma", number, "1.2.3,4,5", "", "", ""},
		{"number only sign", number, "-", "", "", ""},
		{"number keeps every digit", number, "12345678901234567890.50", "", "12345678901234567890.5", "n"},
		{"number leading zeros", number, "007", "", "7", "n"},
		{"number negative zero", number, "-0.0", "", "0", "n"},
		{"number fraction only", number, ".5", "", "0.5", "n"},
		{"phone with extension", phoneKH, "+1 650 253 0000 ext. 12", "", "", ""},
		{"number in range", bounded, "10", "", "10", "n"},
		{"number below min", bounded, "0", "", "", ""},
		{"number above max", bounded, "10.5", "", "", ""},
		{"date ISO", dmy, "2026-03-04", "", "2026-03-04", "n"},
		{"date day first", dmy, "4/3/2026", "", "2026-03-04", "n"},
		{"date dots", dmy, "04.03.2026", "", "2026-03-04", "n"},
		{"date month first", mdy, "3/4/2026", "", "2026-03-04", "n"},
		{"date Khmer digits", dmy, "០៤/០៣/២០២៦", "", "2026-03-04", "n"},
		{"date invalid day", dmy, "31/02/2026", "", "", ""},
		{"date two-digit year", dmy, "4/3/26", "", "", ""},
		{"date words", dmy, "tomorrow", "", "", ""},
		{"date year 0", dmy, "0000-01-01", "", "", ""},
		{"choice by payload", choice, "whatever", "s", "s", "small"},
		{"choice by title", choice, "small", "", "s", "small"},
		{"choice by value", choice, "LARGE", "", "large", "n"},
		{"choice Khmer title", choice, "ធំ", "", "large", "n"},
		{"choice without value", choice, "medium", "", "Medium", "n"},
		{"choice by number", choice, "3", "", "Medium", "n"},
		{"choice by Khmer number", choice, "២", "", "large", "n"},
		{"choice number out of range", choice, "4", "", "", ""},
		{"choice unknown", choice, "huge", "", "", ""},
		{"choice unknown payload falls back to text", choice, "Small", "OTHER", "s", "small"},
		{"unknown answer type", unknown, "x", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := tc.q.Check(tc.text, tc.payload)
			if ok != (tc.want != "") || a.Value != tc.want || a.Next != tc.next {
				t.Fatalf("Check(%q, %q) = %+v, %v; want %q → %q", tc.text, tc.payload, a, ok, tc.want, tc.next)
			}
		})
	}
}

func TestBusinessHours(t *testing.T) {
	pp, err := time.LoadLocation("Asia/Phnom_Penh") // UTC+7, no DST
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	h := &BusinessHours{TimeZone: "Asia/Phnom_Penh", Weekly: []Interval{
		{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "08:00", To: "17:30"},
		{Days: []string{"sat"}, From: "22:00", To: "24:00"},
		{Days: []string{"sun"}, From: "09:00", To: "09:00"}, // empty: never open
		{Days: []string{"sun"}, From: "x", To: "12:00"},     // invalid: ignored
	}}
	loc, err := h.Location(time.UTC)
	if err != nil || loc.String() != pp.String() {
		t.Fatalf("Location = %v, %v", loc, err)
	}
	// 2026-03-02 is a Monday.
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 3, day, hh, mm, 0, 0, pp).UTC() }
	tests := []struct {
		t    time.Time
		open bool
	}{
		{at(2, 7, 59), false},
		{at(2, 8, 0), true},
		{at(2, 17, 29), true},
		{at(2, 17, 30), false},
		{at(6, 12, 0), true},                                // Friday
		{at(7, 12, 0), false},                               // Saturday noon
		{at(7, 23, 59), true},                               // Saturday, up to 24:00
		{at(8, 0, 0), false},                                // Sunday midnight
		{at(8, 9, 0), false},                                // empty interval
		{at(8, 10, 0), false},                               // invalid interval
		{time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), true}, // 08:00 in Phnom Penh
	}
	for _, tc := range tests {
		if got := h.Open(tc.t, loc); got != tc.open {
			t.Errorf("Open(%s) = %v, want %v", tc.t.In(pp), got, tc.open)
		}
	}
	// No zone of their own: the workspace's.
	ws := &BusinessHours{Weekly: h.Weekly}
	if l, _ := ws.Location(pp); l != pp {
		t.Errorf("Location without a zone = %v", l)
	}
	if _, err := (&BusinessHours{TimeZone: "Mars/Olympus"}).Location(time.UTC); err == nil {
		t.Error("Location accepted an unknown zone")
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   Duration
		want time.Duration
		ok   bool
	}{
		{"", 0, true},
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"2d", 48 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"3650d", 3650 * 24 * time.Hour, true},
		{"3651d", 0, false},
		{"87601h", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"-1h", 0, false},
		{"+1h", 0, false},
		{"1d-1h", 0, false},
		{"1dd", 0, false},
		{"1 day", 0, false},
		{"10", 0, false},
	}
	for _, tc := range tests {
		got, err := tc.in.Value()
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Duration(%q).Value() = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
