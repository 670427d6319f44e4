package contact

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/validate"
)

// MaxStage is the length of a lead stage, in characters.
const MaxStage = 50

// CheckStage returns the lead stage as SetStage stores it (trimmed, NFC;
// "" for none), or a *validate.Error naming "stage". Until stages have
// definitions (issue 5) a stage is a short free label, checked like a name.
func CheckStage(stage string) (string, error) {
	s, ok := cleanText(stage, false)
	if !ok {
		return "", validate.Field("stage", "The stage is not valid text on one line.")
	}
	return validate.Name("stage", s, MaxStage, true)
}

// SetStage puts the workspace's contact in the lead stage ("" takes it out
// of any) through idb (a flow passes its transaction; nil runs in one of
// its own), and reports whether the stage changed. Setting the stage the
// contact is already in changes nothing, so StageUpdatedAt keeps saying
// since when the contact is in it. A bad stage gets a *validate.Error, a
// contact not in the workspace db.ErrNotFound.
//
// Like field values and tags, the change is the contact's data, kept with
// its author (by), not audited.
func (s *Store) SetStage(ctx context.Context, idb bun.IDB, workspaceID, contactID, stage string, by By) (bool, error) {
	if !by.valid() {
		return false, fmt.Errorf("contact: set stage: author %q is not valid", by)
	}
	stage, err := CheckStage(stage)
	if err != nil {
		return false, fmt.Errorf("contact: set stage: %w", err)
	}
	var value *string
	if stage != "" {
		value = &stage
	}
	var changed bool
	err = s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		var err error
		changed, err = touched(idb.NewRaw(`UPDATE contacts SET stage = ?, stage_by = ?, stage_updated_at = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ? AND coalesce(stage, '') <> ?`,
			value, by.String(), now, now, workspaceID, contactID, stage).Exec(ctx))
		if err != nil || changed {
			return err
		}
		// Nothing changed: the contact is in that stage already, or is not
		// the workspace's.
		return Check(ctx, idb, workspaceID, contactID)
	})
	if err != nil {
		return false, fmt.Errorf("contact: set stage: %w", err)
	}
	return changed, nil
}

// SetSubscribed records the workspace's contact opting in to broadcasts
// (on) or withdrawing (off) through idb (nil: a transaction of its own),
// and reports whether that changed anything. Opting in twice keeps the
// time of the first opt-in; every change keeps its author and time, the
// record of consent promise P-40 asks for. A contact not in the workspace
// gets db.ErrNotFound.
func (s *Store) SetSubscribed(ctx context.Context, idb bun.IDB, workspaceID, contactID string, on bool, by By) (bool, error) {
	if !by.valid() {
		return false, fmt.Errorf("contact: set subscribed: author %q is not valid", by)
	}
	// The time goes to the column of the change: the last opt-in or the
	// last withdrawal; the other one stays as it was.
	q := `UPDATE contacts SET subscribed = ?, unsubscribed_at = ?, subscription_by = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ? AND subscribed <> ?`
	if on {
		q = `UPDATE contacts SET subscribed = ?, subscribed_at = ?, subscription_by = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ? AND subscribed <> ?`
	}
	var changed bool
	err := s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		var err error
		changed, err = touched(idb.NewRaw(q, on, now, by.String(), now, workspaceID, contactID, on).Exec(ctx))
		if err != nil || changed {
			return err
		}
		return Check(ctx, idb, workspaceID, contactID)
	})
	if err != nil {
		return false, fmt.Errorf("contact: set subscribed: %w", err)
	}
	return changed, nil
}

// Region is the country of the contact's locale ("KH" for "km_KH"): the
// region a phone number they give without its country code is read in
// (SetOptions.Region). "" when the locale names no country.
func (c Contact) Region() string {
	_, country, ok := strings.Cut(strings.ReplaceAll(c.Locale, "-", "_"), "_")
	if !ok || len(country) != 2 || !isUpperASCII(country) {
		return ""
	}
	return country
}

func isUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
