package contact

import (
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/keyring"
)

// ProfileState says whether the platform's profile of a contact is known.
type ProfileState string

// Profile states (column contacts.profile_state).
const (
	// ProfilePending: never fetched yet.
	ProfilePending ProfileState = "pending"
	// ProfileFetched: the platform answered (maybe with nothing to share).
	ProfileFetched ProfileState = "fetched"
	// ProfileUnavailable: fetching failed for good this time; it is tried
	// again after ProfileRetry.
	ProfileUnavailable ProfileState = "unavailable"
)

// How often profiles are fetched again. A fetched profile is refreshed
// rarely (names and pictures seldom change, and each fetch is a Graph call
// charged to the Page); one that could not be fetched is tried again the
// next day, on the contact's next message.
const (
	ProfileRefresh = 30 * 24 * time.Hour
	ProfileRetry   = 24 * time.Hour
)

// MaxName is the length of a first or last name given to Create, in
// characters.
const MaxName = 100

// ErrInvalid: the input is refused (a bad name, a merge that cannot be
// done). Field-level problems also wrap a *validate.Error naming the field
// (validate.As finds it).
var ErrInvalid = errors.New("invalid")

// invalidError is ErrInvalid with its reason; it unwraps to both.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// invalid wraps err (a *validate.Error or a plain reason) in ErrInvalid.
func invalid(err error) error { return invalidError{err} }

// Contact is a person: on one channel when they wrote first (Upsert), on
// none when they were added by hand or imported (Create), and on more than
// one after merges (Identities lists them all).
type Contact struct {
	ID          string
	WorkspaceID string
	// ChannelID and ExternalID are the contact's first channel identity:
	// the channel and its platform-scoped ID (PSID on Messenger). Both are
	// "" for a contact created without one. Upsert and Lookup, finding the
	// contact by an identity merged into it, give that identity instead.
	ChannelID  string
	ExternalID string
	// FirstName, LastName and PictureURL are opened from their sealed
	// columns by Get, GetMany and List; Upsert and Lookup leave them empty.
	FirstName  string
	LastName   string
	Locale     string
	PictureURL string
	// ProfileState and ProfileFetchedAt describe the last profile fetch
	// (ProfileFetchedAt is zero while pending).
	ProfileState     ProfileState
	ProfileFetchedAt time.Time
	// Stage is the lead stage ("" for none); StageBy and StageUpdatedAt
	// say who put the contact in it and since when (zero if never set).
	Stage          string
	StageBy        By
	StageUpdatedAt time.Time
	// Subscribed says whether the person opted in to broadcasts.
	// SubscribedAt is the last opt-in, UnsubscribedAt the last withdrawal
	// (zero if none), SubscriptionBy who made the last change.
	Subscribed     bool
	SubscribedAt   time.Time
	UnsubscribedAt time.Time
	SubscriptionBy By
	// CreatedBy is who added a contact created by hand, by an import or
	// through the API (Create); zero for one who wrote first.
	CreatedBy By
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DisplayName is the person's name as the platform gave it, or "" when it
// shared none (or the names were not opened).
func (c Contact) DisplayName() string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// ProfileDue reports whether the contact's profile should be fetched at
// now: never fetched, fetched more than ProfileRefresh ago, or unavailable
// for more than ProfileRetry.
func (c Contact) ProfileDue(now time.Time) bool {
	switch c.ProfileState {
	case ProfileFetched:
		return !now.Before(c.ProfileFetchedAt.Add(ProfileRefresh))
	case ProfileUnavailable:
		return !now.Before(c.ProfileFetchedAt.Add(ProfileRetry))
	default:
		return true
	}
}

// Sealed columns of contacts.
const (
	colFirstName = "first_name"
	colLastName  = "last_name"
	colPicture   = "profile_pic"
)

// aad binds a sealed contact field to its row and column.
func aad(workspaceID, id, column string) keyring.AAD {
	return keyring.AAD{Workspace: workspaceID, Table: "contacts", Column: column, Row: id}
}
