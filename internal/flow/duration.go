package flow

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Duration is a length of time as the author wrote it: Go's syntax ("90s",
// "15m", "1h30m") with days allowed first ("2d", "1d12h"). It is kept as
// text so that documents round-trip unchanged; Validate checks it and
// Value reads it.
type Duration string

// maxDays bounds the days of a Duration so that it fits time.Duration.
const maxDays = 3650

// Value returns the length of time d stands for. The empty Duration is 0.
func (d Duration) Value() (time.Duration, error) {
	s := string(d)
	if s == "" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, errors.New("a duration cannot have a sign")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || i == 0 || s[0] < '0' || s[0] > '9' {
			return 0, errors.New("write days as a whole number first, like 2d or 1d12h")
		}
		if n > maxDays {
			return 0, errors.New("a duration can be at most " + strconv.Itoa(maxDays) + " days")
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			return 0, errors.New("a duration cannot have a sign")
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("write a duration like 30s, 15m, 2h or 1d")
	}
	if v > time.Duration(maxDays)*24*time.Hour {
		return 0, errors.New("a duration can be at most " + strconv.Itoa(maxDays) + " days")
	}
	return days + v, nil
}
