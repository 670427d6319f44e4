package dsr

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// ActionCorrect is the audit action of a correction (target type
// "contact"); details name the fields changed, never their values.
const ActionCorrect = "contact.correct"

// Summary answers an access request (Art 15): what Parley holds about the
// contact, by category, with counts, and where it went.
type Summary struct {
	ContactID string
	Name      string
	// Categories counts what is held, by category, in a fixed order.
	Categories []Category
	Flags      Flags
	// Consent is the state now per channel ("" for every channel).
	Consent map[string]ConsentState
	// SharedWith names the platforms the contact's messages went through.
	SharedWith []string
	// Blocked says why automation is stopped for the contact ("" if not).
	Blocked string
}

// Category is one kind of data held, with how many items.
type Category struct {
	Name  string
	Count int
}

// Summary builds the access summary of the workspace's contact.
// db.ErrNotFound for an unknown or foreign contact.
func (s *Service) Summary(ctx context.Context, workspaceID, contactID string) (Summary, error) {
	doc, err := s.document(ctx, workspaceID, contactID, nil)
	if err != nil {
		return Summary{}, fmt.Errorf("dsr: summary: %w", err)
	}
	msgs, notes := 0, 0
	for _, c := range doc.Conversations {
		msgs += len(c.Messages)
		notes += len(c.Notes)
	}
	activityNotes := 0
	for _, a := range doc.Activity {
		if a.Kind == "note" {
			activityNotes++
		}
	}
	notes += activityNotes
	why, err := Blocked(ctx, s.d.R, workspaceID, contactID)
	if err != nil {
		return Summary{}, fmt.Errorf("dsr: summary: %w", err)
	}
	hist := make([]Consent, len(doc.Consents))
	for i, c := range doc.Consents {
		hist[i] = Consent{ChannelID: c.ChannelID, State: ConsentState(c.State)}
	}
	profile := 0
	for _, v := range []string{doc.Contact.FirstName, doc.Contact.LastName, doc.Contact.Locale, doc.Contact.PictureURL} {
		if v != "" {
			profile++
		}
	}
	f, _ := readFlags(ctx, s.d.R, workspaceID, contactID)
	return Summary{
		ContactID: contactID, Name: strings.TrimSpace(doc.Contact.FirstName + " " + doc.Contact.LastName),
		Categories: []Category{
			{"Profile details", profile}, {"Platform identities", len(doc.Identities)}, {"Custom field values", len(doc.Fields)},
			{"Tags", len(doc.Tags)}, {"Conversations", len(doc.Conversations)}, {"Messages", msgs}, {"Notes", notes},
			{"Activity entries", len(doc.Activity) - activityNotes}, {"Consent records", len(doc.Consents)}, {"Privacy requests", len(doc.Requests)},
		},
		Flags: f, Consent: CurrentConsent(hist), SharedWith: doc.SharedWith, Blocked: why,
	}, nil
}

// Correction changes a contact's names and field values (Art 16).
type Correction struct {
	// FirstName and LastName, when set, replace the names ("" clears one).
	FirstName, LastName *string
	// Fields sets (or, with Clear, removes) custom field values.
	Fields []contact.FieldChange
	// RequestID, when set, is the open correction request this answers.
	RequestID string
	// Region reads phone numbers without a country code (see
	// contact.SetOptions).
	Region string
}

// Correct applies c to the workspace's contact in one transaction, all or
// nothing, audit-logged (contact.correct naming the changed fields). Bad
// values get contact's errors (ErrInvalid with a *validate.Error naming
// the field); nothing to change is ErrInvalid.
func (s *Service) Correct(ctx context.Context, a audit.Actor, workspaceID, contactID string, c Correction) error {
	if c.FirstName == nil && c.LastName == nil && len(c.Fields) == 0 {
		return invalid("first_name", "Change a name or a field.")
	}
	by := contact.ByActor(a)
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := contact.Check(ctx, tx, workspaceID, contactID); err != nil {
			return err
		}
		changed := []string{}
		if c.FirstName != nil || c.LastName != nil {
			if err := s.opt.Contacts.SetName(ctx, tx, workspaceID, contactID, c.FirstName, c.LastName); err != nil {
				return err
			}
			if c.FirstName != nil {
				changed = append(changed, "first_name")
			}
			if c.LastName != nil {
				changed = append(changed, "last_name")
			}
		}
		for _, f := range c.Fields {
			var err error
			if f.Clear {
				_, err = s.opt.Contacts.ClearField(ctx, tx, workspaceID, contactID, f.Key)
			} else {
				_, err = s.opt.Contacts.SetField(ctx, tx, workspaceID, contactID, f.Key, f.Raw, contact.SetOptions{By: by, Region: c.Region})
			}
			if err != nil {
				return err
			}
			changed = append(changed, "field:"+f.Key)
		}
		sort.Strings(changed)
		now := s.now()
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionCorrect, targetContact, contactID,
			map[string]string{"changed": strings.Join(changed, ",")}); err != nil {
			return err
		}
		return s.answer(ctx, tx, a, workspaceID, c.RequestID, []Kind{KindCorrection}, contactID)
	})
	if err != nil {
		return fmt.Errorf("dsr: correct: %w", err)
	}
	return nil
}

// Erase erases the workspace's contact through the ContactEraser and
// completes the erasure request requestID (required: erasure is answered
// through a logged request, so that the record of it survives). The
// request is checked first; the eraser then deletes the contact (and
// ForgetContact, its hook, unlinks the request); the request is completed
// afterwards, naming nobody.
func (s *Service) Erase(ctx context.Context, a audit.Actor, workspaceID, requestID string) (Request, error) {
	if s.opt.Eraser == nil {
		return Request{}, fmt.Errorf("dsr: erase: %w", errors.New("no eraser is configured"))
	}
	r, err := getRequest(ctx, s.d.R, workspaceID, requestID)
	if err != nil {
		return Request{}, fmt.Errorf("dsr: erase: %w", err)
	}
	if r.Kind != KindErasure || !r.Open() {
		return Request{}, fmt.Errorf("dsr: erase: %w", invalid("request_id", "Name an open erasure request."))
	}
	if r.ContactID != "" {
		if err := s.opt.Eraser.EraseContact(ctx, a, workspaceID, r.ContactID); err != nil && !errors.Is(err, db.ErrNotFound) {
			return Request{}, fmt.Errorf("dsr: erase: %w", err)
		}
		// Without erasure's hook (ForgetContact) wired, unlink here.
		if err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return s.ForgetContact(ctx, tx, workspaceID, r.ContactID)
		}); err != nil {
			return Request{}, fmt.Errorf("dsr: erase: %w", err)
		}
	}
	return s.transition(ctx, a, workspaceID, requestID, StateCompleted, "")
}

// ForgetContact is erasure's Hook (package erasure, OnErase "dsr"): inside
// the erasing transaction it deletes the contact's exports, flags and
// consent records, and unlinks its requests (the record of a request
// stays, naming nobody, its free-text reason cleared).
func (s *Service) ForgetContact(ctx context.Context, tx bun.Tx, workspaceID, contactID string) error {
	for _, q := range []string{
		`DELETE FROM dsr_exports WHERE workspace_id = ? AND contact_id = ?`,
		`DELETE FROM contact_consents WHERE workspace_id = ? AND contact_id = ?`,
		`DELETE FROM contact_privacy WHERE workspace_id = ? AND contact_id = ?`,
		`UPDATE dsr_requests SET contact_id = NULL, reason = '' WHERE workspace_id = ? AND contact_id = ?`,
	} {
		if _, err := tx.NewRaw(q, workspaceID, contactID).Exec(ctx); err != nil {
			return fmt.Errorf("dsr: forget contact: %w", err)
		}
	}
	return nil
}

// MoveContact is package contact's Mover for merges: the gone contact's
// consent history and requests move to the kept one; the flags combine,
// the most protective way (a flag either had stays set); its exports are
// deleted, being sealed under the gone contact's key, which the merge
// destroys.
func (s *Service) MoveContact(ctx context.Context, tx bun.Tx, m contact.Merging) error {
	gone, err := readFlags(ctx, tx, m.WorkspaceID, m.GoneID)
	if err != nil {
		return fmt.Errorf("dsr: move contact: %w", err)
	}
	if gone.Restricted || gone.Objected || gone.Minor {
		keep, err := readFlags(ctx, tx, m.WorkspaceID, m.KeepID)
		if err != nil {
			return fmt.Errorf("dsr: move contact: %w", err)
		}
		if _, err := tx.NewRaw(`INSERT INTO contact_privacy (workspace_id, contact_id, restricted, objected, minor, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, contact_id) DO UPDATE SET restricted = excluded.restricted, objected = excluded.objected,
				minor = excluded.minor, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			m.WorkspaceID, m.KeepID, keep.Restricted || gone.Restricted, keep.Objected || gone.Objected, keep.Minor || gone.Minor,
			m.By.String(), m.At.UTC()).Exec(ctx); err != nil {
			return fmt.Errorf("dsr: move contact: %w", err)
		}
	}
	for _, q := range []string{
		`UPDATE contact_consents SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
		`UPDATE dsr_requests SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
	} {
		if _, err := tx.NewRaw(q, m.KeepID, m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
			return fmt.Errorf("dsr: move contact: %w", err)
		}
	}
	for _, q := range []string{
		`DELETE FROM contact_privacy WHERE workspace_id = ? AND contact_id = ?`,
		`DELETE FROM dsr_exports WHERE workspace_id = ? AND contact_id = ?`,
	} {
		if _, err := tx.NewRaw(q, m.WorkspaceID, m.GoneID).Exec(ctx); err != nil {
			return fmt.Errorf("dsr: move contact: %w", err)
		}
	}
	return nil
}
