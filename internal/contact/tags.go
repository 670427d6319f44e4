package contact

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/validate"
)

// MaxTagName is the length of a tag name, in characters.
const MaxTagName = 50

// Audit actions of tags (target type "tag"). Tagging a contact is not
// audited, and neither is a tag a flow creates on the fly (no person acts).
const (
	ActionTagCreate = "tag.create"
	ActionTagRename = "tag.rename"
	ActionTagColor  = "tag.color"
	ActionTagDelete = "tag.delete"
	targetTag       = "tag"
)

// ErrTagExists: the workspace already has a tag of that name, ignoring
// letter case. Wraps db.ErrConflict.
var ErrTagExists = fmt.Errorf("a tag with this name already exists: %w", db.ErrConflict)

// Tag is a label a workspace puts on contacts.
type Tag struct {
	ID          string
	WorkspaceID string
	// Name is unique in the workspace ignoring letter case.
	Name string
	// Color is "#rrggbb", or "" for the dashboard's default.
	Color     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// checkTagName returns the name as stored (trimmed, NFC) and its
// uniqueness key.
func checkTagName(name string) (string, string, error) {
	name, ok := cleanText(name, false)
	switch {
	case !ok:
		return "", "", validate.Field("name", "The name is not valid text.")
	case name == "":
		return "", "", validate.Field("name", "Enter a name.")
	case utf8.RuneCountInString(name) > MaxTagName:
		return "", "", validate.Field("name", fmt.Sprintf("Use at most %d characters.", MaxTagName))
	}
	return name, db.FoldKey(name), nil
}

func checkColor(color string) (string, error) {
	color = strings.TrimSpace(color)
	if color != "" && !colorPattern.MatchString(color) {
		return "", validate.Field("color", "Use a colour like #1a7f5a.")
	}
	return strings.ToLower(color), nil
}

const tagCols = `id, workspace_id, name, color, created_at, updated_at`

type tagRow struct {
	ID          string    `bun:"id"`
	WorkspaceID string    `bun:"workspace_id"`
	Name        string    `bun:"name"`
	Color       string    `bun:"color"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func (r *tagRow) tag() Tag {
	return Tag{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Color: r.Color, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// insertTag creates the tag unless the workspace has one of that name;
// created says which. DO NOTHING, not a failing insert, which would abort
// the caller's PostgreSQL transaction.
func insertTag(ctx context.Context, idb bun.IDB, now time.Time, workspaceID, name, nameKey, color string) (Tag, bool, error) {
	t := Tag{ID: uuid.Must(uuid.NewV7()).String(), WorkspaceID: workspaceID, Name: name, Color: color, CreatedAt: now, UpdatedAt: now}
	err := db.OneRow(idb.NewRaw(`INSERT INTO tags (id, workspace_id, name, name_key, color, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, name_key) DO NOTHING`,
		t.ID, workspaceID, name, nameKey, color, now, now).Exec(ctx))
	if errors.Is(err, db.ErrNotFound) {
		return Tag{}, false, nil
	}
	return t, err == nil, err
}

// tagBy reads one tag of the workspace by column (a constant of this file)
// through idb; with share set, on PostgreSQL the row is locked until idb's
// transaction ends, so a concurrent delete either waits or is seen.
func (s *Store) tagBy(ctx context.Context, idb bun.IDB, workspaceID, column, value string, share bool) (Tag, error) {
	q := `SELECT ` + tagCols + ` FROM tags WHERE workspace_id = ? AND ` + column + ` = ?`
	if share && s.d.Dialect == db.Postgres {
		q += ` FOR SHARE`
	}
	var r tagRow
	if err := idb.NewRaw(q, workspaceID, value).Scan(ctx, &r); err != nil {
		return Tag{}, db.NoRows(err)
	}
	return r.tag(), nil
}

// CreateTag adds a tag to the workspace and records tag.create. Bad input
// gets a *validate.Error, a name the workspace already has (ignoring
// letter case) ErrTagExists.
func (s *Store) CreateTag(ctx context.Context, a audit.Actor, workspaceID, name, color string) (Tag, error) {
	name, key, err := checkTagName(name)
	if err != nil {
		return Tag{}, fmt.Errorf("contact: create tag: %w", err)
	}
	if color, err = checkColor(color); err != nil {
		return Tag{}, fmt.Errorf("contact: create tag: %w", err)
	}
	var t Tag
	err = s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		var created bool
		var err error
		if t, created, err = insertTag(ctx, tx, now, workspaceID, name, key, color); err != nil {
			return err
		} else if !created {
			return ErrTagExists
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionTagCreate, targetTag, t.ID, nil)
	})
	if err != nil {
		return Tag{}, fmt.Errorf("contact: create tag: %w", err)
	}
	return t, nil
}

// RenameTag renames the workspace's tag and records tag.rename; contacts
// keep it. Changing only the letter case is allowed; taking another tag's
// name gets ErrTagExists.
func (s *Store) RenameTag(ctx context.Context, a audit.Actor, workspaceID, tagID, name string) (Tag, error) {
	return s.UpdateTag(ctx, a, workspaceID, tagID, &name, nil)
}

// SetTagColor changes the colour of the workspace's tag ("" for the
// default) and records tag.color.
func (s *Store) SetTagColor(ctx context.Context, a audit.Actor, workspaceID, tagID, color string) (Tag, error) {
	return s.UpdateTag(ctx, a, workspaceID, tagID, nil, &color)
}

// UpdateTag renames the workspace's tag and/or changes its colour (a nil
// pointer leaves that part as it is) in one transaction, recording
// tag.rename and tag.color for what was asked. Both values are checked
// before anything changes: a bad one gets a *validate.Error, another tag's
// name (ignoring letter case; changing only the case is allowed)
// ErrTagExists, a tag not in the workspace db.ErrNotFound.
func (s *Store) UpdateTag(ctx context.Context, a audit.Actor, workspaceID, tagID string, name, color *string) (Tag, error) {
	var key string
	if name != nil {
		n, k, err := checkTagName(*name)
		if err != nil {
			return Tag{}, fmt.Errorf("contact: update tag: %w", err)
		}
		name, key = &n, k
	}
	if color != nil {
		c, err := checkColor(*color)
		if err != nil {
			return Tag{}, fmt.Errorf("contact: update tag: %w", err)
		}
		color = &c
	}
	var t Tag
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		if name != nil {
			if err := renameTag(ctx, tx, now, workspaceID, tagID, *name, key); err != nil {
				return err
			}
		}
		if color != nil {
			if err := db.OneRow(tx.NewRaw(`UPDATE tags SET color = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				*color, now, workspaceID, tagID).Exec(ctx)); err != nil {
				return err
			}
		}
		var err error
		if t, err = s.tagBy(ctx, tx, workspaceID, "id", tagID, false); err != nil {
			return err
		}
		if name != nil {
			if err := audit.Record(ctx, tx, now, workspaceID, a, ActionTagRename, targetTag, tagID, nil); err != nil {
				return err
			}
		}
		if color != nil {
			return audit.Record(ctx, tx, now, workspaceID, a, ActionTagColor, targetTag, tagID, map[string]string{"color": *color})
		}
		return nil
	})
	if err != nil {
		return Tag{}, fmt.Errorf("contact: update tag: %w", err)
	}
	return t, nil
}

// renameTag gives the tag its new name and key inside tx.
func renameTag(ctx context.Context, tx bun.Tx, now time.Time, workspaceID, tagID, name, key string) error {
	// Look first: a unique violation would abort the PostgreSQL
	// transaction. A rename racing past this check still fails on the
	// index, below.
	var taken int
	if err := tx.NewRaw(`SELECT count(*) FROM tags WHERE workspace_id = ? AND name_key = ? AND id <> ?`,
		workspaceID, key, tagID).Scan(ctx, &taken); err != nil {
		return err
	}
	if taken > 0 {
		return ErrTagExists
	}
	err := db.OneRow(tx.NewRaw(`UPDATE tags SET name = ?, name_key = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
		name, key, now, workspaceID, tagID).Exec(ctx))
	if db.IsUniqueViolation(err) {
		return ErrTagExists
	}
	return err
}

// DeleteTag deletes the workspace's tag, taking it off every contact, and
// records tag.delete (db.ErrNotFound if there is no such tag).
func (s *Store) DeleteTag(ctx context.Context, a audit.Actor, workspaceID, tagID string) error {
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := s.now().UTC().Truncate(time.Microsecond)
		if err := db.OneRow(tx.NewRaw(`DELETE FROM tags WHERE workspace_id = ? AND id = ?`, workspaceID, tagID).Exec(ctx)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, workspaceID, a, ActionTagDelete, targetTag, tagID, nil)
	})
	if err != nil {
		return fmt.Errorf("contact: delete tag: %w", err)
	}
	return nil
}

// Tags returns the workspace's tags ordered by name (see tagList).
func (s *Store) Tags(ctx context.Context, workspaceID string) ([]Tag, error) {
	var rows []tagRow
	if err := s.d.R.NewRaw(`SELECT `+tagCols+` FROM tags WHERE workspace_id = ?`, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: tags: %w", err)
	}
	return tagList(rows), nil
}

// tagList returns the rows as tags ordered by their folded names, in code
// point order: sorted here rather than in SQL, where the order would
// depend on the engine and its collation.
func tagList(rows []tagRow) []Tag {
	out := make([]Tag, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].tag())
	}
	slices.SortFunc(out, func(a, b Tag) int {
		return cmp.Or(strings.Compare(db.FoldKey(a.Name), db.FoldKey(b.Name)), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Tag returns the workspace's tag id (db.ErrNotFound if the workspace has
// no such tag).
func (s *Store) Tag(ctx context.Context, workspaceID, id string) (Tag, error) {
	t, err := s.tagBy(ctx, s.d.R, workspaceID, "id", id, false)
	if err != nil {
		return Tag{}, fmt.Errorf("contact: tag: %w", err)
	}
	return t, nil
}

// TagUsage returns how many contacts have each of the workspace's tags, by
// tag ID (tags on no contact are absent). It walks the index on (tag_id,
// contact_id) of the workspace's tags only: for the settings page, not
// for hot paths.
func (s *Store) TagUsage(ctx context.Context, workspaceID string) (map[string]int, error) {
	var rows []struct {
		TagID string `bun:"tag_id"`
		N     int    `bun:"n"`
	}
	if err := s.d.R.NewRaw(`SELECT tag_id, count(*) AS n FROM contact_tags
		WHERE tag_id IN (SELECT id FROM tags WHERE workspace_id = ?) AND workspace_id = ? GROUP BY tag_id`,
		workspaceID, workspaceID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: tag usage: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.TagID] = r.N
	}
	return out, nil
}

// TagByName returns the workspace's tag of that name, ignoring letter case
// (db.ErrNotFound if there is none).
func (s *Store) TagByName(ctx context.Context, workspaceID, name string) (Tag, error) {
	t, err := s.tagBy(ctx, s.d.R, workspaceID, "name_key", db.FoldKey(strings.TrimSpace(name)), false)
	if err != nil {
		return Tag{}, fmt.Errorf("contact: tag by name: %w", err)
	}
	return t, nil
}

// TagContact puts the workspace's tag name (ignoring letter case) on the
// contact through idb (a flow passes its transaction; nil runs in one of
// its own) and reports whether the contact did not have it yet: tagging
// twice is a no-op. With create set, a tag the workspace does not have is
// created (without a colour); without, it gets db.ErrNotFound. A bad name
// gets a *validate.Error, a contact not in the workspace db.ErrNotFound.
func (s *Store) TagContact(ctx context.Context, idb bun.IDB, workspaceID, contactID, name string, create bool, by By) (Tag, bool, error) {
	if !by.valid() {
		return Tag{}, false, fmt.Errorf("contact: tag contact: author %q is not valid", by)
	}
	name, key, err := checkTagName(name)
	if err != nil {
		return Tag{}, false, fmt.Errorf("contact: tag contact: %w", err)
	}
	var t Tag
	var added bool
	err = s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		if err := Check(ctx, idb, workspaceID, contactID); err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		var err error
		t, err = s.tagBy(ctx, idb, workspaceID, "name_key", key, true)
		if errors.Is(err, db.ErrNotFound) && create {
			// Another transaction may create it first: then ours inserts
			// nothing and the read below finds theirs.
			if _, _, err = insertTag(ctx, idb, now, workspaceID, name, key, ""); err != nil {
				return err
			}
			t, err = s.tagBy(ctx, idb, workspaceID, "name_key", key, true)
		}
		if err != nil {
			return err
		}
		added, err = touched(idb.NewRaw(`INSERT INTO contact_tags (contact_id, tag_id, workspace_id, created_by, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (contact_id, tag_id) DO NOTHING`,
			contactID, t.ID, workspaceID, by.String(), now).Exec(ctx))
		return err
	})
	if err != nil {
		return Tag{}, false, fmt.Errorf("contact: tag contact: %w", err)
	}
	return t, added, nil
}

// UntagContact takes the workspace's tag name (ignoring letter case) off
// the contact through idb (nil: a transaction of its own) and reports
// whether the contact had it. An unknown tag is not an error: the contact
// does not have it. A contact not in the workspace gets db.ErrNotFound.
func (s *Store) UntagContact(ctx context.Context, idb bun.IDB, workspaceID, contactID, name string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		if err := Check(ctx, idb, workspaceID, contactID); err != nil {
			return err
		}
		var err error
		removed, err = touched(idb.NewRaw(`DELETE FROM contact_tags WHERE workspace_id = ? AND contact_id = ?
			AND tag_id = (SELECT id FROM tags WHERE workspace_id = ? AND name_key = ?)`,
			workspaceID, contactID, workspaceID, db.FoldKey(strings.TrimSpace(name))).Exec(ctx))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("contact: untag contact: %w", err)
	}
	return removed, nil
}

// UntagContactID takes the workspace's tag tagID off the contact through
// idb (nil: a transaction of its own) and reports whether the contact had
// it. A contact or a tag not in the workspace gets db.ErrNotFound.
func (s *Store) UntagContactID(ctx context.Context, idb bun.IDB, workspaceID, contactID, tagID string) (bool, error) {
	var removed bool
	err := s.inTx(ctx, idb, func(ctx context.Context, idb bun.IDB) error {
		if err := Check(ctx, idb, workspaceID, contactID); err != nil {
			return err
		}
		if _, err := s.tagBy(ctx, idb, workspaceID, "id", tagID, false); err != nil {
			return err
		}
		var err error
		removed, err = touched(idb.NewRaw(`DELETE FROM contact_tags WHERE workspace_id = ? AND contact_id = ? AND tag_id = ?`,
			workspaceID, contactID, tagID).Exec(ctx))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("contact: untag contact: %w", err)
	}
	return removed, nil
}

// touched reports whether a statement touched a row.
func touched(res interface{ RowsAffected() (int64, error) }, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("rows affected: %w", err)
	}
	return n > 0, nil
}

// ContactTags returns the tags on the workspace's contact, ordered by name
// (none for a contact of another workspace).
func (s *Store) ContactTags(ctx context.Context, workspaceID, contactID string) ([]Tag, error) {
	return s.ContactTagsTx(ctx, s.d.R, workspaceID, contactID)
}

// ContactTagsTx is ContactTags reading through idb, so that a flow sees the
// tags it added earlier in its transaction.
func (s *Store) ContactTagsTx(ctx context.Context, idb bun.IDB, workspaceID, contactID string) ([]Tag, error) {
	var rows []tagRow
	if err := idb.NewRaw(`SELECT t.id, t.workspace_id, t.name, t.color, t.created_at, t.updated_at
		FROM contact_tags ct JOIN tags t ON t.workspace_id = ct.workspace_id AND t.id = ct.tag_id
		WHERE ct.workspace_id = ? AND ct.contact_id = ?`, workspaceID, contactID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("contact: contact tags: %w", err)
	}
	return tagList(rows), nil
}

// MaxTaggedPage caps a page of ContactsWithTag.
const MaxTaggedPage = 1000

// ContactsWithTag returns the IDs of the workspace's contacts that have the
// tag, in ID order, after the ID after ("" from the start), at most limit
// (default and maximum MaxTaggedPage): the building block of conditions,
// segments and broadcasts. It walks the index on (tag_id, contact_id).
func (s *Store) ContactsWithTag(ctx context.Context, workspaceID, tagID, after string, limit int) ([]string, error) {
	if limit <= 0 || limit > MaxTaggedPage {
		limit = MaxTaggedPage
	}
	ids := []string{}
	if err := s.d.R.NewRaw(`SELECT contact_id FROM contact_tags WHERE tag_id = ? AND workspace_id = ? AND contact_id > ?
		ORDER BY contact_id LIMIT ?`, tagID, workspaceID, after, limit).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("contact: contacts with tag: %w", err)
	}
	return ids, nil
}
