package web

import (
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/workspace"
)

// workspaceZone is the workspace's time zone, UTC when it has none that
// parses: snooze presets ("tomorrow at 9:00") and snooze times are the
// shop's local time, not the server's.
func workspaceZone(ws *workspace.Membership) *time.Location {
	if ws == nil || ws.TimeZone == "" {
		return time.UTC
	}
	loc, err := workspace.ParseTimeZone(ws.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// shortTime is a near time as people say it, in loc: "15:30" today,
// "tomorrow 9:00", "Mon 9:00" within a week, "4 Mar, 9:00" after that.
func shortTime(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	ty, tm, td := t.Date()
	ny, nm, nd := now.Date()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, loc) }
	days := int(day(ty, tm, td).Sub(day(ny, nm, nd)).Hours() / 24)
	clock := strings.TrimPrefix(t.Format("15:04"), "0") // 9:00, not 09:00
	switch {
	case days == 0:
		return "today " + clock
	case days == 1:
		return "tomorrow " + clock
	case days > 1 && days < 7:
		return t.Format("Mon") + " " + clock
	case ty == ny:
		return t.Format("2 Jan") + ", " + clock
	default:
		return t.Format("2 Jan 2006") + ", " + clock
	}
}

// Snooze presets: what the Snooze menu offers besides a chosen time.
const (
	snooze1h       = "1h"
	snoozeTomorrow = "tomorrow"
	snoozeNextWeek = "next-week"
	snoozeCustom   = "custom"
)

// morning is when "tomorrow" and "next week" snoozes end, local time.
const morning = 9

// snoozeUntil turns a Snooze choice into a time: preset is one of the
// presets above; custom, for snoozeCustom, is a datetime-local value
// ("2006-01-02T15:04") in loc. It answers ok false for an unknown preset
// or a custom time that does not parse.
func snoozeUntil(preset, custom string, now time.Time, loc *time.Location) (time.Time, bool) {
	local := now.In(loc)
	y, m, d := local.Date()
	switch preset {
	case snooze1h:
		return now.Add(time.Hour), true
	case snoozeTomorrow:
		return time.Date(y, m, d+1, morning, 0, 0, 0, loc).UTC(), true
	case snoozeNextWeek:
		// Next Monday morning, a full week ahead when today is Monday.
		ahead := (8 - int(local.Weekday())) % 7
		if ahead == 0 {
			ahead = 7
		}
		return time.Date(y, m, d+ahead, morning, 0, 0, 0, loc).UTC(), true
	case snoozeCustom:
		t, err := time.ParseInLocation("2006-01-02T15:04", custom, loc)
		if err != nil {
			return time.Time{}, false
		}
		return t.UTC(), true
	}
	return time.Time{}, false
}
