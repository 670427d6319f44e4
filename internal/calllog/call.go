package calllog

import (
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/validate"
)

// Limits of an upload.
const (
	// MaxBatch is the most calls one upload may hold; a phone with more
	// sends several.
	MaxBatch = 500
	// MaxDuration is the longest call accepted, in seconds.
	MaxDuration = 24 * 60 * 60
	// maxNumber caps a number's length in bytes before any parsing.
	maxNumber = 64
	// maxDeviceID caps the device ID's length in bytes.
	maxDeviceID = 128
	// futureSlack is how far ahead of the server's clock a call may be
	// dated, for phones whose clock runs fast.
	futureSlack = 10 * time.Minute
)

// earliest is the oldest call time accepted: anything before is a phone
// with a reset clock, not a call.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Direction says who placed a call.
type Direction string

// Directions.
const (
	In  Direction = "in"  // the contact called
	Out Direction = "out" // the phone's user called
)

// Type is how a call ended.
type Type string

// Types.
const (
	Answered  Type = "answered"
	Missed    Type = "missed"
	Rejected  Type = "rejected"
	Voicemail Type = "voicemail"
)

// Call is one entry of a phone's call log as the client uploads it.
type Call struct {
	// Number is the other party's number as the phone shows it, in any
	// format; it is normalized to E.164 and then forgotten.
	Number string
	// Name is the phone's contact name for the number. It is never read or
	// stored: the field exists so that clients may send their log as is
	// and rely on Parley to discard it.
	Name      string
	Direction Direction
	Type      Type
	// Duration is the call's length in seconds (0 for calls not answered).
	Duration int
	// At is when the call started.
	At time.Time
}

// ErrInvalid is wrapped by the errors that refuse a whole upload (too many
// calls, a bad device ID or author); validate.As finds the field.
var ErrInvalid = errors.New("calllog: invalid upload")

// Problem is why one call of an upload was refused. It names the call by
// its index in the upload and the field, never by its values.
type Problem struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// check returns the problem of c, or ok; now is the server's clock.
func check(i int, c Call, now time.Time) (Problem, bool) {
	bad := func(field, msg string) (Problem, bool) { return Problem{Index: i, Field: field, Message: msg}, false }
	n := strings.TrimSpace(c.Number)
	switch {
	case n == "":
		return bad("number", "The number is missing.")
	case len(n) > maxNumber || !utf8.ValidString(n):
		return bad("number", "The number is not a phone number.")
	}
	switch c.Direction {
	case In, Out:
	default:
		return bad("direction", "Use in or out.")
	}
	switch c.Type {
	case Answered, Missed, Rejected, Voicemail:
	default:
		return bad("type", "Use answered, missed, rejected or voicemail.")
	}
	if c.Duration < 0 || c.Duration > MaxDuration {
		return bad("duration", "Give the duration in seconds, from 0 to 86400.")
	}
	switch {
	case c.At.IsZero():
		return bad("at", "The time of the call is missing.")
	case c.At.Before(earliest):
		return bad("at", "The time of the call is before 2000; check the phone's clock.")
	case c.At.After(now.Add(futureSlack)):
		return bad("at", "The time of the call is in the future; check the phone's clock.")
	}
	return Problem{}, true
}

// checkDevice refuses a device ID that is empty, too long or not
// printable text.
func checkDevice(id string) error {
	switch {
	case id == "":
		return validate.Field("device_id", "Give the device's ID.")
	case len(id) > maxDeviceID:
		return validate.Field("device_id", "The device ID is too long.")
	}
	for _, r := range id { // invalid UTF-8 reads as U+FFFD, printable: check it apart
		if r == utf8.RuneError {
			return validate.Field("device_id", "The device ID may hold only printable characters.")
		}
		if !unicode.IsPrint(r) {
			return validate.Field("device_id", "The device ID may hold only printable characters.")
		}
	}
	return nil
}
