package contact

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/validate"
)

// Store keeps contacts, their profile fields sealed under each contact's
// key.
type Store struct {
	d   *db.DB
	kr  *keyring.Keyring
	now func() time.Time
	st  *db.Statements // the hot path's, prepared
	// searchable hears phone and e-mail value changes (OnSearchableChange).
	searchable func(ctx context.Context, idb bun.IDB, workspaceID, contactID string) error
}

// OnSearchableChange sets f to be called, inside the transaction of the
// change, whenever a contact's phone or e-mail value is set or cleared:
// those do not move contacts.updated_at, which the search indexer follows
// for names, so the app wires search.Index.Touch here. An error from f
// fails the change. Call it once, while wiring, before the Store is used.
func (s *Store) OnSearchableChange(f func(ctx context.Context, idb bun.IDB, workspaceID, contactID string) error) {
	s.searchable = f
}

// searchableChanged tells OnSearchableChange's listener, if any, that a
// value of field type t changed.
func (s *Store) searchableChanged(ctx context.Context, idb bun.IDB, t FieldType, workspaceID, contactID string) error {
	if s.searchable == nil || (t != FieldPhone && t != FieldEmail) {
		return nil
	}
	return s.searchable(ctx, idb, workspaceID, contactID)
}

// NewStore returns a Store on d that seals with kr; now is the clock.
func NewStore(d *db.DB, kr *keyring.Keyring, now func() time.Time) *Store {
	return &Store{d: d, kr: kr, now: now, st: db.NewStatements(d, "contact")}
}

// contactCols is every column of contacts, in the order of row.dest. A
// contact without a channel identity (Create) has NULL channel and external
// IDs, read as "".
const contactCols = `id, workspace_id, coalesce(channel_id, '') AS channel_id, coalesce(external_id, '') AS external_id, first_name, last_name, profile_pic, locale,
	profile_state, profile_fetched_at, stage, stage_by, stage_updated_at,
	subscribed, subscribed_at, unsubscribed_at, subscription_by, created_by, created_at, updated_at`

// row is a contacts row as stored; the sealed fields are still sealed.
type row struct {
	ID               string     `bun:"id"`
	WorkspaceID      string     `bun:"workspace_id"`
	ChannelID        string     `bun:"channel_id"`
	ExternalID       string     `bun:"external_id"`
	FirstName        []byte     `bun:"first_name"`
	LastName         []byte     `bun:"last_name"`
	ProfilePic       []byte     `bun:"profile_pic"`
	Locale           string     `bun:"locale"`
	ProfileState     string     `bun:"profile_state"`
	ProfileFetchedAt *time.Time `bun:"profile_fetched_at"`
	Stage            *string    `bun:"stage"`
	StageBy          string     `bun:"stage_by"`
	StageUpdatedAt   *time.Time `bun:"stage_updated_at"`
	Subscribed       bool       `bun:"subscribed"`
	SubscribedAt     *time.Time `bun:"subscribed_at"`
	UnsubscribedAt   *time.Time `bun:"unsubscribed_at"`
	SubscriptionBy   string     `bun:"subscription_by"`
	CreatedBy        string     `bun:"created_by"`
	CreatedAt        time.Time  `bun:"created_at"`
	UpdatedAt        time.Time  `bun:"updated_at"`
}

// dest lists r's fields in the order of contactCols, for Scan.
func (r *row) dest() []any {
	return []any{&r.ID, &r.WorkspaceID, &r.ChannelID, &r.ExternalID, &r.FirstName, &r.LastName, &r.ProfilePic, &r.Locale,
		&r.ProfileState, &r.ProfileFetchedAt, &r.Stage, &r.StageBy, &r.StageUpdatedAt,
		&r.Subscribed, &r.SubscribedAt, &r.UnsubscribedAt, &r.SubscriptionBy, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt}
}

// contact returns r without its sealed fields.
func (r *row) contact() Contact {
	c := Contact{
		ID: r.ID, WorkspaceID: r.WorkspaceID, ChannelID: r.ChannelID, ExternalID: r.ExternalID, Locale: r.Locale,
		ProfileState: ProfileState(r.ProfileState), Subscribed: r.Subscribed,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		ProfileFetchedAt: utc(r.ProfileFetchedAt), StageUpdatedAt: utc(r.StageUpdatedAt),
		SubscribedAt: utc(r.SubscribedAt), UnsubscribedAt: utc(r.UnsubscribedAt),
	}
	if r.Stage != nil {
		c.Stage = *r.Stage
	}
	if r.StageBy != "" {
		c.StageBy = parseBy(r.StageBy)
	}
	if r.SubscriptionBy != "" {
		c.SubscriptionBy = parseBy(r.SubscriptionBy)
	}
	if r.CreatedBy != "" {
		c.CreatedBy = parseBy(r.CreatedBy)
	}
	return c
}

// utc is *t in UTC, or the zero time for NULL.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// open returns r with its sealed fields opened. A contact whose key was
// destroyed (erased a moment ago) reads as nameless rather than failing a
// whole listing.
func (s *Store) open(ctx context.Context, r *row) (Contact, error) {
	return s.openTx(ctx, nil, r)
}

// openTx is open reading the contact's key through idb (nil: the
// keyring's own pools and cache).
func (s *Store) openTx(ctx context.Context, idb bun.IDB, r *row) (Contact, error) {
	c := r.contact()
	fields := []struct {
		column string
		sealed []byte
		to     *string
	}{
		{colFirstName, r.FirstName, &c.FirstName},
		{colLastName, r.LastName, &c.LastName},
		{colPicture, r.ProfilePic, &c.PictureURL},
	}
	for _, f := range fields {
		if f.sealed == nil {
			continue
		}
		pt, err := s.kr.OpenContactTx(ctx, idb, aad(r.WorkspaceID, r.ID, f.column), r.ID, f.sealed)
		if errors.Is(err, keyring.ErrKeyDestroyed) {
			return r.contact(), nil
		}
		if err != nil {
			return Contact{}, err
		}
		*f.to = string(pt)
	}
	return c, nil
}

// Upsert returns the contact of externalID on ch, creating it (profile
// pending) if it is new; created says which. It runs on the hot path of
// every inbound event, inside the caller's transaction idb: one SELECT when
// the contact exists by its first identity, two by an identity merged into
// it (Lookup). Sealed fields are not opened (the names are empty).
func (s *Store) Upsert(ctx context.Context, idb bun.IDB, ch channel.Channel, externalID string) (Contact, bool, error) {
	if externalID == "" {
		return Contact{}, false, errors.New("contact: upsert: empty external ID")
	}
	c, err := s.Lookup(ctx, idb, ch, externalID)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, db.ErrNotFound) {
		return Contact{}, false, fmt.Errorf("contact: upsert: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	c = Contact{
		ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: ch.WorkspaceID, ChannelID: ch.ID, ExternalID: externalID,
		ProfileState: ProfilePending, CreatedAt: now, UpdatedAt: now,
	}
	// DO NOTHING rather than a failing insert: on PostgreSQL a failed
	// statement would abort the caller's whole transaction. A concurrent
	// transaction inserting the same person makes ours wait for it, then
	// insert nothing; the SELECT below then sees its row.
	res, err := idb.NewRaw(`INSERT INTO contacts (id, workspace_id, channel_id, external_id, locale, profile_state, created_at, updated_at)
		VALUES (?, ?, ?, ?, '', 'pending', ?, ?) ON CONFLICT (channel_id, external_id) DO NOTHING`,
		c.ID, c.WorkspaceID, c.ChannelID, c.ExternalID, now, now).Exec(ctx)
	if err != nil {
		return Contact{}, false, fmt.Errorf("contact: upsert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Contact{}, false, fmt.Errorf("contact: upsert: %w", err)
	} else if n == 1 {
		return c, true, nil
	}
	c, err = s.Lookup(ctx, idb, ch, externalID)
	if err != nil {
		return Contact{}, false, fmt.Errorf("contact: upsert: %w", err)
	}
	return c, false, nil
}

// sqlLookup finds a person on a channel: the one statement every inbound
// event costs here.
const sqlLookup = `SELECT ` + contactCols + ` FROM contacts WHERE channel_id = ? AND external_id = ? AND workspace_id = ?`

// forShare is the lock clause of the hot path's statements inside a
// transaction on PostgreSQL (see Lookup).
const forShare = ` FOR SHARE`

// Prepare prepares the statement of the hot path (Upsert and Lookup) on the
// writer, so that the engine parses it once instead of per event. Call it
// once at start, outside any transaction; until then the statement runs
// through bun, only slower.
func (s *Store) Prepare(ctx context.Context) error {
	qs := []string{sqlLookup, sqlLookupMerged}
	if s.d.Dialect == db.Postgres {
		qs = append(qs, sqlLookup+forShare, sqlLookupMerged+forShare)
	}
	return s.st.Prepare(ctx, qs, nil)
}

// lookupLock is the lock clause of Lookup's statements through idb: FOR
// SHARE inside a transaction on PostgreSQL, nothing on SQLite (one writer,
// so a merge cannot run beside the caller's transaction) or outside a
// transaction.
func (s *Store) lookupLock(idb bun.IDB) string {
	if _, ok := idb.(bun.Tx); ok && s.d.Dialect == db.Postgres {
		return forShare
	}
	return ""
}

// Lookup returns the contact of externalID on ch without creating it
// (db.ErrNotFound when the person never wrote), through idb, with its
// sealed fields not opened. A contact's first identity is on its own row
// (one indexed SELECT, the common case); only a miss looks among the
// identities merged into contacts (identities.go), and a contact found
// there comes back with ChannelID and ExternalID set to that identity.
//
// Inside a transaction on PostgreSQL the contact's row is read FOR SHARE
// and stays locked until that transaction ends, so that a Merge cannot
// delete the contact (and destroy its key) while the caller stores
// something sealed under that key: Merge's first statement on the row
// waits for the caller to commit, and then moves what it stored. A Lookup
// that waits on a Merge instead finds the row gone and, with a fresh
// snapshot, the identity now the kept contact's (lookupMerged, or the
// kept row's own identity through Upsert). SQLite has one writer, which
// is lock enough, and keeps the statement unchanged.
func (s *Store) Lookup(ctx context.Context, idb bun.IDB, ch channel.Channel, externalID string) (Contact, error) {
	var r row
	err := s.st.Row(ctx, idb, r.dest(), sqlLookup+s.lookupLock(idb), ch.ID, externalID, ch.WorkspaceID)
	if err == nil {
		return r.contact(), nil
	}
	if err = db.NoRows(err); !errors.Is(err, db.ErrNotFound) {
		return Contact{}, err
	}
	return s.lookupMerged(ctx, idb, ch, externalID)
}

// Get returns one contact of the workspace with its names opened
// (db.ErrNotFound for another workspace's).
func (s *Store) Get(ctx context.Context, workspaceID, id string) (Contact, error) {
	var r row
	if err := s.d.R.NewRaw(`SELECT `+contactCols+` FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Contact{}, fmt.Errorf("contact: get: %w", db.NoRows(err))
	}
	c, err := s.open(ctx, &r)
	if err != nil {
		return Contact{}, fmt.Errorf("contact: get: %w", err)
	}
	return c, nil
}

// GetTx is Get through idb: inside a transaction, the contact as that
// transaction sees it, without taking a second connection from the pool
// (on PostgreSQL, transactions that each wait for one more connection can
// use the pool up and wait on each other).
func (s *Store) GetTx(ctx context.Context, idb bun.IDB, workspaceID, id string) (Contact, error) {
	var r row
	if err := idb.NewRaw(`SELECT `+contactCols+` FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(ctx, &r); err != nil {
		return Contact{}, fmt.Errorf("contact: get: %w", db.NoRows(err))
	}
	c, err := s.openTx(ctx, idb, &r)
	if err != nil {
		return Contact{}, fmt.Errorf("contact: get: %w", err)
	}
	return c, nil
}

// GetMany returns the workspace's contacts among ids, names opened, keyed
// by ID; IDs of other workspaces or unknown ones are simply absent.
func (s *Store) GetMany(ctx context.Context, workspaceID string, ids []string) (map[string]Contact, error) {
	out := make(map[string]Contact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []row
	if err := s.d.R.NewRaw(`SELECT `+contactCols+` FROM contacts WHERE workspace_id = ? AND id IN (?)`,
		workspaceID, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: get many: %w", err)
	}
	for i := range rows {
		c, err := s.open(ctx, &rows[i])
		if err != nil {
			return nil, fmt.Errorf("contact: get many: %w", err)
		}
		out[c.ID] = c
	}
	return out, nil
}

// ListOptions select and page contacts.
type ListOptions struct {
	// ChannelID keeps only one channel's contacts ("" for all).
	ChannelID string
	// Limit caps the page (default and maximum 100).
	Limit int
	// Before is the ID of the last contact of the previous page: the page
	// continues with older contacts.
	Before string
}

// List returns the workspace's contacts, newest first, names opened.
func (s *Store) List(ctx context.Context, workspaceID string, opt ListOptions) ([]Contact, error) {
	if opt.Limit <= 0 || opt.Limit > 100 {
		opt.Limit = 100
	}
	q := `SELECT ` + contactCols + ` FROM contacts WHERE workspace_id = ?`
	args := []any{workspaceID}
	if opt.ChannelID != "" {
		q += ` AND channel_id = ?`
		args = append(args, opt.ChannelID)
	}
	if opt.Before != "" {
		q += ` AND (created_at, id) < (SELECT created_at, id FROM contacts WHERE workspace_id = ? AND id = ?)`
		args = append(args, workspaceID, opt.Before)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, opt.Limit)
	var rows []row
	if err := s.d.R.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: list: %w", err)
	}
	out := make([]Contact, 0, len(rows))
	for i := range rows {
		c, err := s.open(ctx, &rows[i])
		if err != nil {
			return nil, fmt.Errorf("contact: list: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// SetProfile stores the outcome of a profile fetch. With ProfileFetched it
// replaces the names, locale and picture by p (sealed; empty fields are
// stored as nothing) — exactly what the platform shared, nothing more
// (promise P-14). With ProfileUnavailable it only records the failure and
// its time, keeping what an earlier fetch found. Either way the time is
// when ProfileDue starts counting. db.ErrNotFound if the contact is gone.
func (s *Store) SetProfile(ctx context.Context, workspaceID, id string, p channel.Profile, state ProfileState) error {
	if state != ProfileFetched && state != ProfileUnavailable {
		return fmt.Errorf("contact: set profile: state %q is not an outcome", state)
	}
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		if state == ProfileUnavailable {
			return db.OneRow(tx.NewRaw(`UPDATE contacts SET profile_state = 'unavailable', profile_fetched_at = ?, updated_at = ?
				WHERE workspace_id = ? AND id = ?`, now, now, workspaceID, id).Exec(ctx))
		}
		// Update first: the row lock (PostgreSQL) keeps a concurrent erasure
		// from deleting the contact between this check and the seals below,
		// which would otherwise create a key for a contact that is gone.
		if err := db.OneRow(tx.NewRaw(`UPDATE contacts SET profile_state = 'fetched', profile_fetched_at = ?, locale = ?, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, now, p.Locale, now, workspaceID, id).Exec(ctx)); err != nil {
			return err
		}
		var sealed [3][]byte
		for i, f := range []struct{ column, value string }{{colFirstName, p.FirstName}, {colLastName, p.LastName}, {colPicture, p.PictureURL}} {
			if f.value == "" {
				continue
			}
			env, err := s.kr.SealContactTx(ctx, tx, aad(workspaceID, id, f.column), id, []byte(f.value))
			if err != nil {
				return err
			}
			sealed[i] = env
		}
		_, err := tx.NewRaw(`UPDATE contacts SET first_name = ?, last_name = ?, profile_pic = ? WHERE workspace_id = ? AND id = ?`,
			sealed[0], sealed[1], sealed[2], workspaceID, id).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("contact: set profile: %w", err)
	}
	return nil
}

// NewContact is a person added by hand, by an import or through the API,
// before they have written on any channel.
type NewContact struct {
	// FirstName and LastName are optional, at most MaxName characters
	// each; they are sealed under the new contact's key.
	FirstName, LastName string
	// By is who adds the contact, kept on it (created_by). Required.
	By By
}

// Create adds a contact of the workspace that has no channel identity yet
// (CSV import, API), through idb (nil: a transaction of its own). Its
// names are sealed under its own new key; its profile is never fetched,
// having no channel to fetch it from. Phones and e-mails are custom field
// values, set afterwards with SetField. Bad names get ErrInvalid wrapping a
// *validate.Error naming "first_name" or "last_name".
func (s *Store) Create(ctx context.Context, idb bun.IDB, workspaceID string, in NewContact) (Contact, error) {
	if !in.By.valid() {
		return Contact{}, fmt.Errorf("contact: create: author %q is not valid", in.By)
	}
	first, err := checkName("first_name", in.FirstName)
	if err != nil {
		return Contact{}, fmt.Errorf("contact: create: %w", err)
	}
	last, err := checkName("last_name", in.LastName)
	if err != nil {
		return Contact{}, fmt.Errorf("contact: create: %w", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	c := Contact{
		ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, FirstName: first, LastName: last,
		ProfileState: ProfileFetched, ProfileFetchedAt: now, CreatedBy: in.By, CreatedAt: now, UpdatedAt: now,
	}
	err = s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		// The row first: a workspace that does not exist fails its foreign
		// key before any key is created for the contact.
		if _, err := idb.NewRaw(`INSERT INTO contacts (id, workspace_id, locale, profile_state, profile_fetched_at, created_by, created_at, updated_at)
			VALUES (?, ?, '', 'fetched', ?, ?, ?, ?)`, c.ID, workspaceID, now, in.By.String(), now, now).Exec(ctx); err != nil {
			return err
		}
		var sealed [2][]byte
		for i, f := range []struct{ column, value string }{{colFirstName, first}, {colLastName, last}} {
			if f.value == "" {
				continue
			}
			env, err := s.kr.SealContactTx(ctx, idb, aad(workspaceID, c.ID, f.column), c.ID, []byte(f.value))
			if err != nil {
				return err
			}
			sealed[i] = env
		}
		if sealed[0] == nil && sealed[1] == nil {
			return nil
		}
		_, err := idb.NewRaw(`UPDATE contacts SET first_name = ?, last_name = ? WHERE workspace_id = ? AND id = ?`,
			sealed[0], sealed[1], workspaceID, c.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return Contact{}, fmt.Errorf("contact: create: %w", err)
	}
	return c, nil
}

// checkName returns a person's name as stored (trimmed, NFC; "" for none)
// or ErrInvalid wrapping a *validate.Error naming field.
func checkName(field, name string) (string, error) {
	n, ok := cleanText(name, false)
	if !ok {
		return "", invalid(validate.Field(field, "The name is not valid text on one line."))
	}
	n, err := validate.Name(field, n, MaxName, true)
	if err != nil {
		return "", invalid(err)
	}
	return n, nil
}
