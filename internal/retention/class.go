package retention

import (
	"fmt"
	"time"
)

// Class is a class of data with its own retention period.
type Class string

// The classes of P-35.
const (
	ClassMessages    Class = "message_content"
	ClassAttachments Class = "attachments"
	ClassRawPayloads Class = "raw_payloads"
	ClassOperational Class = "operational_logs"
	ClassAuditLog    Class = "audit_log"
	ClassExports     Class = "exports"
)

// Lifetime is the period that means "keep for the workspace's lifetime".
const Lifetime = 0

// Day is the unit of retention periods.
const Day = 24 * time.Hour

// Limit is a class's default period and the range a workspace may choose
// from, in days.
type Limit struct {
	Class Class
	// Title and About describe the class in plain words (settings page).
	Title, About string
	// Default is the period of a workspace that chose none.
	Default int
	// Min and Max bound a chosen period; Max 0 means no upper bound.
	Min, Max int
	// LifetimeAllowed says whether Lifetime (keep everything) may be chosen.
	LifetimeAllowed bool
}

// Limits is the table of classes, in the order the settings page shows
// them. It returns a fresh slice each call.
func Limits() []Limit {
	return []Limit{
		{Class: ClassMessages, Title: "Message content",
			About:   "The messages your contacts send and your team, flows and the AI send back, with their search entries.",
			Default: Lifetime, Min: 1, LifetimeAllowed: true},
		{Class: ClassAttachments, Title: "Attachments",
			About:   "Files, images and voice notes sent or received in conversations.",
			Default: Lifetime, Min: 1, LifetimeAllowed: true},
		{Class: ClassRawPayloads, Title: "Raw webhook payloads",
			About:   "Events exactly as Facebook and Instagram delivered them. Parley deletes each as soon as it is processed; this bounds the ones that could not be.",
			Default: 90, Min: 1, Max: 90},
		{Class: ClassOperational, Title: "Operational logs",
			About:   "Flow errors, finished contact imports and their reports, past invitations, Facebook logins, and redelivery keys.",
			Default: 90, Min: 1, Max: 90},
		{Class: ClassAuditLog, Title: "Audit log",
			About:   "Who did what in the workspace, and when. Kept at least a year so that incidents can be investigated.",
			Default: 365, Min: 365, Max: 730},
		{Class: ClassExports, Title: "Exports",
			About:   "Archives produced for data-subject access requests, ready for download.",
			Default: 7, Min: 1, Max: 30},
	}
}

// LimitOf returns the limit of class, and false for an unknown class.
func LimitOf(class Class) (Limit, bool) {
	for _, l := range Limits() {
		if l.Class == class {
			return l, true
		}
	}
	return Limit{}, false
}

// Platform is the period applied to the class's rows that belong to no
// workspace: the class's default.
func (l Limit) Platform() int { return l.Default }

// Check reports whether days is allowed for the class; the error is an
// *InvalidError naming the class and the allowed range.
func (l Limit) Check(days int) error {
	if days == Lifetime && l.LifetimeAllowed {
		return nil
	}
	if days >= l.Min && (l.Max == 0 || days <= l.Max) {
		return nil
	}
	return &InvalidError{Field: string(l.Class), Message: l.Range()}
}

// Range describes the allowed periods in words, for error messages and
// the settings page.
func (l Limit) Range() string {
	switch {
	case l.LifetimeAllowed && l.Max == 0:
		return fmt.Sprintf("%s must be at least %s, or 0 to keep it for the workspace's lifetime.", l.Class, days(l.Min))
	case l.Min == l.Max:
		return fmt.Sprintf("%s must be %s.", l.Class, days(l.Min))
	default:
		return fmt.Sprintf("%s must be from %s to %s.", l.Class, days(l.Min), days(l.Max))
	}
}

// days spells a number of days.
func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// Cutoff is the instant before which rows kept for days expire at now:
// rows strictly older than the period (created before now − days) go, a
// row exactly days old stays (N-1).
func Cutoff(now time.Time, days int) time.Time {
	return now.UTC().Add(-time.Duration(days) * Day).Truncate(time.Microsecond)
}

// InvalidError is bad input: a period outside its class's limits (Field
// is the class), an unknown class, or a hold's missing reason (Field
// "reason"). Message is safe to show.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return "retention: " + e.Message }
