package calllog

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/validate"
)

// Options tune a Syncer. The zero value is fine.
type Options struct {
	// Region returns the ISO 3166-1 alpha-2 country (such as "KH") that
	// numbers without a country code are read in for the workspace, ""
	// for none. nil, or "", matches only numbers the phone gives with
	// their country code. Workspaces have no country setting yet; the app
	// may derive one (from the time zone, say) or leave it nil.
	Region func(ctx context.Context, workspaceID string) (string, error)
}

// Syncer records uploaded call logs on contacts' activity.
type Syncer struct {
	d        *db.DB
	kr       *keyring.Keyring
	contacts *contact.Store
	activity *activity.Store
	now      func() time.Time
	opt      Options
}

// New returns a Syncer on d: contacts finds leads by phone, activity
// records the calls, kr gives the blind keys of deduplication, now is the
// clock.
func New(d *db.DB, kr *keyring.Keyring, contacts *contact.Store, activity *activity.Store, now func() time.Time, opt Options) *Syncer {
	return &Syncer{d: d, kr: kr, contacts: contacts, activity: activity, now: now, opt: opt}
}

// Result says what became of an upload, in counts: it never repeats a
// number or a name. Every call is counted exactly once.
type Result struct {
	// Matched calls were recorded on the activity of at least one contact.
	Matched int `json:"matched"`
	// Unmatched calls had a number no lead of the workspace has (or no
	// number that parses); they were discarded.
	Unmatched int `json:"unmatched"`
	// Duplicates matched but were recorded already (by an earlier upload,
	// or earlier in this one); they added nothing.
	Duplicates int `json:"duplicates"`
	// Invalid calls were refused, each with a Problem; nothing of them was
	// stored.
	Invalid  int       `json:"invalid"`
	Problems []Problem `json:"problems"`
}

// Activity data keys of a call entry (activity.KindCall).
const (
	DataDirection = "direction" // "in" or "out"
	DataType      = "type"      // "answered", "missed", "rejected", "voicemail"
	DataDuration  = "duration"  // seconds, decimal
	DataAt        = "at"        // RFC 3339, UTC, seconds
	DataDevice    = "device_id" // the uploading device's ID
	DataUser      = "user"      // who synced: "user:<id>" or "api_key:<id>"
)

// Sync records the workspace's calls from device deviceID uploaded by by:
// each valid call whose number is a phone of one of the workspace's
// contacts becomes an activity entry of kind "call" on each such contact,
// once; every other call, and every name, is discarded unstored (see the
// package documentation). Invalid calls are skipped and reported by index
// in Result.Problems; the others are still recorded.
//
// A whole upload is refused, with an error wrapping ErrInvalid and a
// *validate.Error, when it holds more than MaxBatch calls or deviceID is
// not a usable ID; by must name a user or an API key. Everything is
// written in one transaction: on error nothing is.
func (s *Syncer) Sync(ctx context.Context, by contact.By, workspaceID, deviceID string, calls []Call) (Result, error) {
	res := Result{Problems: []Problem{}}
	if len(calls) > MaxBatch {
		return Result{}, fmt.Errorf("%w: %w", ErrInvalid, validate.Field("calls", fmt.Sprintf("Send at most %d calls at a time.", MaxBatch)))
	}
	if err := checkDevice(deviceID); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if (by.Kind != contact.ByUser && by.Kind != contact.ByAPIKey) || by.ID == "" {
		return Result{}, fmt.Errorf("%w: the author must be a user or an API key", ErrInvalid)
	}
	region := ""
	if s.opt.Region != nil {
		r, err := s.opt.Region(ctx, workspaceID)
		if err != nil {
			return Result{}, fmt.Errorf("calllog: sync: region: %w", err)
		}
		region = r
	}
	now := s.now().UTC()

	type pending struct {
		call Call
		e164 string
	}
	var todo []pending
	for i, c := range calls {
		if p, ok := check(i, c, now); !ok {
			res.Invalid++
			res.Problems = append(res.Problems, p)
			continue
		}
		e164, err := contact.NormalizePhone(c.Number, region)
		if err != nil {
			res.Unmatched++
			continue
		}
		todo = append(todo, pending{call: c, e164: e164})
	}
	if len(todo) == 0 {
		return res, nil
	}

	var matched, unmatched, dups int
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		matched, unmatched, dups = 0, 0, 0
		for _, p := range todo {
			ids, err := s.contacts.ByPhone(ctx, tx, workspaceID, p.e164)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				unmatched++
				continue
			}
			key := s.callKey(workspaceID, p.e164, p.call)
			recorded := false
			for _, id := range ids {
				fresh, err := s.record(ctx, tx, by, workspaceID, id, deviceID, key, p.call, now)
				if err != nil {
					return err
				}
				recorded = recorded || fresh
			}
			if recorded {
				matched++
			} else {
				dups++
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("calllog: sync: %w", err)
	}
	res.Matched, res.Unmatched, res.Duplicates = matched, res.Unmatched+unmatched, dups
	return res, nil
}

// record writes the call on one contact unless its key is there already,
// and reports whether it wrote.
func (s *Syncer) record(ctx context.Context, tx bun.Tx, by contact.By, workspaceID, contactID, deviceID string, key []byte, c Call, now time.Time) (bool, error) {
	// DO NOTHING rather than a failing insert: on PostgreSQL a failed
	// statement would abort the whole upload's transaction.
	r, err := tx.NewRaw(`INSERT INTO call_log_seen (workspace_id, contact_id, call_key, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, contact_id, call_key) DO NOTHING`,
		workspaceID, contactID, key, now.Truncate(time.Microsecond)).Exec(ctx)
	if err != nil {
		return false, err
	}
	if n, err := r.RowsAffected(); err != nil {
		return false, err
	} else if n == 0 {
		return false, nil
	}
	at := c.At.UTC().Truncate(time.Second)
	err = s.activity.Record(ctx, tx, activity.Entry{
		WorkspaceID: workspaceID, ContactID: contactID, Kind: activity.KindCall, Actor: by.String(), At: at,
		Data: map[string]string{
			DataDirection: string(c.Direction),
			DataType:      string(c.Type),
			DataDuration:  strconv.Itoa(c.Duration),
			DataAt:        at.Format(time.RFC3339),
			DataDevice:    deviceID,
			DataUser:      by.String(),
		},
	})
	return err == nil, err
}

// callKey is the blind deduplication key of a call: the same number,
// start second and direction give the same key in one workspace, and
// nothing else can be read from it.
func (s *Syncer) callKey(workspaceID, e164 string, c Call) []byte {
	v := "call:" + e164 + "|" + strconv.FormatInt(c.At.Unix(), 10) + "|" + string(c.Direction)
	b, err := base64.RawURLEncoding.DecodeString(s.kr.BlindIndex(workspaceID, v))
	if err != nil { // BlindIndex always encodes this way
		panic("calllog: call key: " + err.Error())
	}
	return b
}
