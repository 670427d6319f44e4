package web

import (
	"testing"
	"time"
)

// Snooze presets are the shop's local time: "tomorrow" is 9:00 tomorrow
// where the shop is, "next week" next Monday at 9:00 (a full week ahead
// on a Monday); a custom time is read in the shop's zone; anything else
// is refused.
func TestSnoozeUntil(t *testing.T) {
	pp, err := time.LoadLocation("Asia/Phnom_Penh") // UTC+7, no daylight saving
	if err != nil {
		t.Fatal(err)
	}
	// Wednesday 20 May 2026, 23:30 in Phnom Penh (16:30 UTC).
	wed := time.Date(2026, 5, 20, 16, 30, 0, 0, time.UTC)
	mon := time.Date(2026, 5, 18, 3, 0, 0, 0, time.UTC) // Monday 10:00 local
	tests := []struct {
		name, preset, custom string
		now                  time.Time
		want                 time.Time
		ok                   bool
	}{
		{"one hour", snooze1h, "", wed, wed.Add(time.Hour), true},
		{"tomorrow is local", snoozeTomorrow, "", wed, time.Date(2026, 5, 21, 2, 0, 0, 0, time.UTC), true},
		{"next week from a Wednesday", snoozeNextWeek, "", wed, time.Date(2026, 5, 25, 2, 0, 0, 0, time.UTC), true},
		{"next week from a Monday", snoozeNextWeek, "", mon, time.Date(2026, 5, 25, 2, 0, 0, 0, time.UTC), true},
		{"custom, local", snoozeCustom, "2026-06-01T14:30", wed, time.Date(2026, 6, 1, 7, 30, 0, 0, time.UTC), true},
		{"custom, malformed", snoozeCustom, "next tuesday", wed, time.Time{}, false},
		{"unknown preset", "forever", "", wed, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := snoozeUntil(tt.preset, tt.custom, tt.now, pp)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("snoozeUntil(%q, %q) = %v, %t; want %v, %t", tt.preset, tt.custom, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestShortTime(t *testing.T) {
	now := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC) // a Wednesday
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 5, 20, 15, 30, 0, 0, time.UTC), "today 15:30"},
		{time.Date(2026, 5, 21, 9, 0, 0, 0, time.UTC), "tomorrow 9:00"},
		{time.Date(2026, 5, 25, 9, 0, 0, 0, time.UTC), "Mon 9:00"},
		{time.Date(2026, 7, 4, 9, 15, 0, 0, time.UTC), "4 Jul, 9:15"},
		{time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC), "4 Jan 2027, 9:00"},
	}
	for _, tt := range tests {
		if got := shortTime(tt.t, now, time.UTC); got != tt.want {
			t.Errorf("shortTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
