package flow

import (
	"errors"
	"slices"
	"time"
)

// BusinessHours are weekly opening hours in a time zone.
type BusinessHours struct {
	// TimeZone is an IANA zone ("Asia/Phnom_Penh"); empty means the
	// workspace's time zone.
	TimeZone string `json:"time_zone,omitempty"`
	// Weekly are the opening intervals; they may overlap.
	Weekly []Interval `json:"weekly"`
}

// Interval is an opening interval on some days of the week. It cannot
// cross midnight: write 22:00–24:00 and 00:00–02:00 on the next day.
type Interval struct {
	// Days are "mon" … "sun".
	Days []string `json:"days"`
	// From and To are "HH:MM" on a 24-hour clock; To is after From and
	// may be "24:00".
	From string `json:"from"`
	To   string `json:"to"`
}

// dayIndex returns the weekday a day name of the format ("mon") stands for.
func dayIndex(name string) (time.Weekday, bool) {
	i := slices.Index([]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, name)
	return time.Weekday(i), i >= 0
}

// clock reads "HH:MM" as minutes after midnight; "24:00" is 1440.
func clock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, errors.New("write a time as HH:MM, like 08:30")
	}
	d := func(c byte) (int, bool) { return int(c - '0'), c >= '0' && c <= '9' }
	h1, ok1 := d(s[0])
	h2, ok2 := d(s[1])
	m1, ok3 := d(s[3])
	m2, ok4 := d(s[4])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, errors.New("write a time as HH:MM, like 08:30")
	}
	h, m := h1*10+h2, m1*10+m2
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, errors.New("a time runs from 00:00 to 24:00")
	}
	return h*60 + m, nil
}

// Location returns the hours' time zone, or workspace when they name none.
func (h *BusinessHours) Location(workspace *time.Location) (*time.Location, error) {
	if h.TimeZone == "" {
		return workspace, nil
	}
	return time.LoadLocation(h.TimeZone)
}

// Open reports whether t falls within the hours, read in loc (see
// Location). Intervals that Validate would refuse never match.
func (h *BusinessHours) Open(t time.Time, loc *time.Location) bool {
	t = t.In(loc)
	minute := t.Hour()*60 + t.Minute()
	for _, iv := range h.Weekly {
		from, err1 := clock(iv.From)
		to, err2 := clock(iv.To)
		if err1 != nil || err2 != nil || from >= to || minute < from || minute >= to {
			continue
		}
		for _, name := range iv.Days {
			if d, ok := dayIndex(name); ok && d == t.Weekday() {
				return true
			}
		}
	}
	return false
}
