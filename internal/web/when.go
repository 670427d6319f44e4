package web

import (
	"fmt"
	"time"
)

// ago says how long before now t was, the way people say it: "just now",
// "3 minutes ago", "yesterday", "on 4 Mar". The zero time is "never".
// Times are UTC like every time Parley shows; a workspace time zone comes
// with workspace settings.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		// A clock a little ahead (another replica's) is still "just now".
		return "just now"
	case d < time.Hour:
		return count(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return count(int(d/time.Hour), "hour") + " ago"
	case d < 48*time.Hour:
		return "yesterday"
	case d < 7*24*time.Hour:
		return count(int(d/(24*time.Hour)), "day") + " ago"
	case t.Year() == now.Year():
		return "on " + t.UTC().Format("2 Jan")
	default:
		return "on " + t.UTC().Format("2 Jan 2006")
	}
}

// clock is a message's time in a thread: the hour for today, the date
// otherwise.
func clock(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	switch {
	case t.IsZero():
		return ""
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan, 15:04")
	default:
		return t.Format("2 Jan 2006, 15:04")
	}
}

func count(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
