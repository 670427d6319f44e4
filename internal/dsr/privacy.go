package dsr

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/inbox"
)

// Audit actions on a contact's privacy state (target type "contact");
// details hold flags, states and sources, never personal data.
const (
	ActionFlags   = "contact.privacy_flags"
	ActionConsent = "contact.consent"
	targetContact = "contact"
)

// Flags are a contact's processing restrictions. Any of them stops every
// automated send and flow for the contact (Blocked).
type Flags struct {
	// Restricted: processing restricted (Art 18): data kept, nothing
	// automated, no broadcasts.
	Restricted bool
	// Objected: the person objected to direct marketing and automated
	// processing (Art 21).
	Objected bool
	// Minor: the contact is a child: no tracking, no broadcasts, no
	// automation (P-40).
	Minor bool
	// UpdatedBy and UpdatedAt say who last changed them (zero: never).
	UpdatedBy string
	UpdatedAt time.Time
}

// FlagsChange sets some flags; nil leaves one as it is.
type FlagsChange struct {
	Restricted, Objected, Minor *bool
	// RequestID, when set, is the open restriction or objection request
	// this change answers: it is completed in the same transaction.
	RequestID string
}

// Flags returns the workspace's contact's flags (all false when never
// set). db.ErrNotFound for an unknown or foreign contact.
func (s *Service) Flags(ctx context.Context, workspaceID, contactID string) (Flags, error) {
	if err := contact.Check(ctx, s.d.R, workspaceID, contactID); err != nil {
		return Flags{}, fmt.Errorf("dsr: flags: %w", err)
	}
	f, err := readFlags(ctx, s.d.R, workspaceID, contactID)
	if err != nil {
		return Flags{}, fmt.Errorf("dsr: flags: %w", err)
	}
	return f, nil
}

func readFlags(ctx context.Context, idb bun.IDB, workspaceID, contactID string) (Flags, error) {
	var rows []struct {
		Restricted bool      `bun:"restricted"`
		Objected   bool      `bun:"objected"`
		Minor      bool      `bun:"minor"`
		UpdatedBy  string    `bun:"updated_by"`
		UpdatedAt  time.Time `bun:"updated_at"`
	}
	if err := idb.NewRaw(`SELECT restricted, objected, minor, updated_by, updated_at FROM contact_privacy
		WHERE workspace_id = ? AND contact_id = ?`, workspaceID, contactID).Scan(ctx, &rows); err != nil {
		return Flags{}, err
	}
	if len(rows) == 0 {
		return Flags{}, nil
	}
	r := rows[0]
	return Flags{Restricted: r.Restricted, Objected: r.Objected, Minor: r.Minor, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}, nil
}

// SetFlags changes the contact's flags, audit-logged (contact.privacy_flags),
// and completes ch.RequestID when set: a restriction request only when the
// contact ends up restricted, an objection only when it ends up objected
// (ErrInvalid otherwise, nothing changed). Nothing to change is ErrInvalid.
func (s *Service) SetFlags(ctx context.Context, a audit.Actor, workspaceID, contactID string, ch FlagsChange) (Flags, error) {
	if ch.Restricted == nil && ch.Objected == nil && ch.Minor == nil {
		return Flags{}, invalid("restricted", "Set restricted, objected or minor.")
	}
	var out Flags
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := contact.Check(ctx, tx, workspaceID, contactID); err != nil {
			return err
		}
		f, err := readFlags(ctx, tx, workspaceID, contactID)
		if err != nil {
			return err
		}
		set(&f.Restricted, ch.Restricted)
		set(&f.Objected, ch.Objected)
		set(&f.Minor, ch.Minor)
		now := s.now()
		f.UpdatedBy, f.UpdatedAt = contact.ByActor(a).String(), now
		if _, err := tx.NewRaw(`INSERT INTO contact_privacy (workspace_id, contact_id, restricted, objected, minor, updated_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, contact_id) DO UPDATE SET restricted = excluded.restricted, objected = excluded.objected,
				minor = excluded.minor, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			workspaceID, contactID, f.Restricted, f.Objected, f.Minor, f.UpdatedBy, now).Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionFlags, targetContact, contactID, map[string]bool{
			"restricted": f.Restricted, "objected": f.Objected, "minor": f.Minor}); err != nil {
			return err
		}
		out = f
		if err := answers(ctx, tx, workspaceID, contactID, ch.RequestID, f); err != nil {
			return err
		}
		return s.answer(ctx, tx, a, workspaceID, ch.RequestID, []Kind{KindRestriction, KindObjection}, contactID)
	})
	if err != nil {
		return Flags{}, fmt.Errorf("dsr: set flags: %w", err)
	}
	return out, nil
}

// answers refuses to complete a restriction request with flags that do
// not restrict processing, or an objection with flags that do not record
// it: saving some other flag must not close the person's request unheard
// (the whole change is refused, so the agent can tick the right box or
// leave the request out). Other cases are answer's to judge.
func answers(ctx context.Context, tx bun.Tx, workspaceID, contactID, requestID string, f Flags) error {
	if requestID == "" {
		return nil
	}
	r, err := getRequest(ctx, tx, workspaceID, requestID)
	if err != nil || r.ContactID != contactID {
		return nil
	}
	switch {
	case r.Kind == KindRestriction && !f.Restricted:
		return invalid("restricted", "A restriction request is answered by restricting processing: tick Restricted, or save without answering the request.")
	case r.Kind == KindObjection && !f.Objected:
		return invalid("objected", "An objection is answered by recording it: tick Objected, or save without answering the request.")
	}
	return nil
}

func set(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// ConsentState is given or withdrawn.
type ConsentState string

// Consent states (column contact_consents.state).
const (
	ConsentGiven     ConsentState = "given"
	ConsentWithdrawn ConsentState = "withdrawn"
)

// Sources say how consent can be given or withdrawn (a closed list; a new
// slice each call).
func Sources() []string {
	return []string{"message", "form", "verbal", "email", "import", "api", "other"}
}

// Consent is one recorded change of consent.
type Consent struct {
	ID        string
	ContactID string
	// ChannelID is the channel it is about ("" for every channel).
	ChannelID string
	State     ConsentState
	Source    string
	// Actor is who recorded it (contact.By form: "user:<id>", "api_key:<id>").
	Actor string
	At    time.Time
}

// NewConsent is a consent change being recorded.
type NewConsent struct {
	ChannelID string
	State     ConsentState
	Source    string
	// RequestID, when set with State withdrawn, is the open
	// consent_withdrawal (or objection) request this answers.
	RequestID string
}

// RecordConsent appends a consent change for the contact, audit-logged
// (contact.consent). A channel that is not the workspace's, an unknown
// state or source is ErrInvalid.
func (s *Service) RecordConsent(ctx context.Context, a audit.Actor, workspaceID, contactID string, in NewConsent) (Consent, error) {
	if in.State != ConsentGiven && in.State != ConsentWithdrawn {
		return Consent{}, invalid("state", `Use "given" or "withdrawn".`)
	}
	ok := false
	for _, src := range Sources() {
		ok = ok || in.Source == src
	}
	if !ok {
		return Consent{}, invalid("source", "Choose one of: message, form, verbal, email, import, api, other.")
	}
	now := s.now()
	c := Consent{ID: uuid.Must(uuid.NewV7()).String(), ContactID: contactID, ChannelID: in.ChannelID, State: in.State,
		Source: in.Source, Actor: contact.ByActor(a).String(), At: now}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := contact.Check(ctx, tx, workspaceID, contactID); err != nil {
			return err
		}
		if in.ChannelID != "" {
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM channels WHERE workspace_id = ? AND id = ?`, workspaceID, in.ChannelID).Scan(ctx, &n); err != nil {
				return err
			}
			if n == 0 {
				return invalid("channel_id", "No such channel in this workspace.")
			}
		}
		if _, err := tx.NewRaw(`INSERT INTO contact_consents (id, workspace_id, contact_id, channel_id, state, source, actor, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, workspaceID, contactID, c.ChannelID, string(c.State), c.Source, c.Actor, now).Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, now, workspaceID, a, ActionConsent, targetContact, contactID, map[string]string{
			"state": string(c.State), "source": c.Source, "channel_id": c.ChannelID}); err != nil {
			return err
		}
		if in.RequestID != "" && in.State != ConsentWithdrawn {
			return invalid("request_id", "Only a withdrawal answers a request.")
		}
		return s.answer(ctx, tx, a, workspaceID, in.RequestID, []Kind{KindWithdrawal, KindObjection}, contactID)
	})
	if err != nil {
		return Consent{}, fmt.Errorf("dsr: record consent: %w", err)
	}
	return c, nil
}

// Consents returns the contact's consent history, oldest first.
// db.ErrNotFound for an unknown or foreign contact.
func (s *Service) Consents(ctx context.Context, workspaceID, contactID string) ([]Consent, error) {
	if err := contact.Check(ctx, s.d.R, workspaceID, contactID); err != nil {
		return nil, fmt.Errorf("dsr: consents: %w", err)
	}
	out, err := consents(ctx, s.d.R, workspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("dsr: consents: %w", err)
	}
	return out, nil
}

func consents(ctx context.Context, idb bun.IDB, workspaceID, contactID string) ([]Consent, error) {
	var rows []struct {
		ID        string    `bun:"id"`
		ChannelID string    `bun:"channel_id"`
		State     string    `bun:"state"`
		Source    string    `bun:"source"`
		Actor     string    `bun:"actor"`
		At        time.Time `bun:"at"`
	}
	if err := idb.NewRaw(`SELECT id, channel_id, state, source, actor, at FROM contact_consents
		WHERE workspace_id = ? AND contact_id = ? ORDER BY at, id`, workspaceID, contactID).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]Consent, len(rows))
	for i, r := range rows {
		out[i] = Consent{ID: r.ID, ContactID: contactID, ChannelID: r.ChannelID, State: ConsentState(r.State), Source: r.Source, Actor: r.Actor, At: r.At.UTC()}
	}
	return out, nil
}

// CurrentConsent reduces a history (oldest first) to the records in force,
// by channel ("" for every channel). A record is superseded by a later one
// of its channel or a later one for every channel: consent given (or
// withdrawn) on all channels replaces what was said on each, while a
// record for every channel is superseded only by a later one for every
// channel. sqlBlocked applies the same rule, so automation is blocked
// exactly when a value of this map is withdrawn.
func CurrentConsent(history []Consent) map[string]ConsentState {
	out := map[string]ConsentState{}
	for _, c := range history {
		if c.ChannelID == "" {
			clear(out)
		}
		out[c.ChannelID] = c.State
	}
	return out
}

// Block reasons, as Blocked reports them and ErrRestricted's message says.
const (
	BlockRestricted = "restricted"
	BlockObjected   = "objected"
	BlockMinor      = "minor"
	BlockWithdrawn  = "consent_withdrawn"
)

// Blocked reports why automation may not touch the contact ("" when it
// may), reading through idb (the caller's transaction). The hook carries
// no channel, so consent withdrawn on any channel blocks automation on
// all of them: the safe reading of P-40.
func Blocked(ctx context.Context, idb bun.IDB, workspaceID, contactID string) (string, error) {
	var flag, withdrawn int
	if err := idb.NewRaw(sqlBlocked, workspaceID, contactID, workspaceID, contactID).Scan(ctx, &flag, &withdrawn); err != nil {
		return "", err
	}
	return blockedBy(flag, withdrawn), nil
}

// sqlBlocked answers Blocked in one statement, since the webhook path asks
// it for every message: the flag that blocks (1 restricted, 2 objected,
// 3 minor, 0 none) and how many withdrawals are in force. As in
// CurrentConsent, a record is superseded by a later one (ordered by at,
// then id) of its channel or of every channel (an empty channel_id); so consent
// given on all channels lifts earlier withdrawals on each, and a
// withdrawal on all channels stands until consent is given on all.
const sqlBlocked = `SELECT
	COALESCE((SELECT CASE WHEN restricted THEN 1 WHEN objected THEN 2 WHEN minor THEN 3 ELSE 0 END
		FROM contact_privacy WHERE workspace_id = ? AND contact_id = ?), 0),
	(SELECT count(*) FROM contact_consents c WHERE c.workspace_id = ? AND c.contact_id = ? AND c.state = 'withdrawn'
		AND NOT EXISTS (SELECT 1 FROM contact_consents l WHERE l.workspace_id = c.workspace_id AND l.contact_id = c.contact_id
			AND (l.channel_id = c.channel_id OR l.channel_id = '') AND (l.at > c.at OR (l.at = c.at AND l.id > c.id))))`

// blockedBy is Blocked's answer from sqlBlocked's two columns.
func blockedBy(flag, withdrawn int) string {
	switch {
	case flag == 1:
		return BlockRestricted
	case flag == 2:
		return BlockObjected
	case flag == 3:
		return BlockMinor
	case withdrawn > 0:
		return BlockWithdrawn
	}
	return ""
}

// Automation is Gate.Automation without prepared statements, for callers
// off the hot path (and tests).
func Automation(ctx context.Context, idb bun.IDB, workspaceID, contactID string, sender inbox.SenderType) error {
	return automation(ctx, workspaceID, contactID, sender, func() (string, error) { return Blocked(ctx, idb, workspaceID, contactID) })
}

// automation refuses an automated send when blocked says so.
func automation(ctx context.Context, workspaceID, contactID string, sender inbox.SenderType, blocked func() (string, error)) error {
	if sender == inbox.SenderAgent || contactID == "" {
		return nil
	}
	why, err := blocked()
	if err != nil {
		return fmt.Errorf("dsr: automation check: %w", err)
	}
	if why != "" {
		return fmt.Errorf("%w (%s)", inbox.ErrRestricted, why)
	}
	return nil
}

// Gate is the privacy check of the webhook and send paths, with its one
// statement prepared: it is asked for every inbound message (may it start
// a flow?) and every automated send (the inbox's Options.Automation). It
// holds no state but the statement, so the inbox can be built with it
// before the Service.
type Gate struct{ st *db.Statements }

// NewGate returns the Gate of d; Prepare it once at start.
func NewGate(d *db.DB) *Gate { return &Gate{st: db.NewStatements(d, "dsr")} }

// Prepare prepares the gate's statement (read inside transactions).
func (g *Gate) Prepare(ctx context.Context) error {
	return g.st.Prepare(ctx, []string{sqlBlocked}, nil)
}

// Blocked is the package's Blocked, prepared.
func (g *Gate) Blocked(ctx context.Context, idb bun.IDB, workspaceID, contactID string) (string, error) {
	var flag, withdrawn int
	if err := g.st.Row(ctx, idb, []any{&flag, &withdrawn}, sqlBlocked, workspaceID, contactID, workspaceID, contactID); err != nil {
		return "", fmt.Errorf("dsr: blocked: %w", err)
	}
	return blockedBy(flag, withdrawn), nil
}

// Automation is the inbox's Options.Automation: it refuses every
// automated send (flow, AI agent, broadcast, integration) to a blocked
// contact with an error wrapping inbox.ErrRestricted. People on the team
// are never refused here (the inbox does not ask for their replies).
func (g *Gate) Automation(ctx context.Context, idb bun.IDB, workspaceID, contactID string, sender inbox.SenderType) error {
	return automation(ctx, workspaceID, contactID, sender, func() (string, error) { return g.Blocked(ctx, idb, workspaceID, contactID) })
}
