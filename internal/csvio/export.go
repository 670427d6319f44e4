package csvio

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/segment"
)

// Columns an export can have, besides "field:<key>". The header row
// names them exactly so, which lets the import map an exported file by
// itself.
const (
	ColID         = "id"
	ColFirstName  = "first_name"
	ColLastName   = "last_name"
	ColStage      = "stage"
	ColSubscribed = "subscribed"
	ColCreatedAt  = "created_at"
	ColTags       = "tags"
)

// ActionExport is the audit action of an export of personal data (target
// type "contact_export"; details: the segment and the columns).
const ActionExport = "contact.export"

// exportPage is how many contacts are read and written at a time.
const exportPage = 200

// ExportOptions choose what to export.
type ExportOptions struct {
	// SegmentID exports the segment's members; "" exports every contact.
	SegmentID string
	// Columns in order; empty for id, names, stage, subscribed, created_at,
	// tags and every field that is not archived.
	Columns []string
}

// Exporter writes contacts as CSV.
type Exporter struct {
	d        *db.DB
	contacts *contact.Store
	segments *segment.Store
	now      func() time.Time
}

// NewExporter returns an Exporter; now is the clock of its audit records.
func NewExporter(d *db.DB, contacts *contact.Store, segments *segment.Store, now func() time.Time) *Exporter {
	return &Exporter{d: d, contacts: contacts, segments: segments, now: now}
}

// columns checks the asked columns against the closed list and the
// workspace's fields.
func (e *Exporter) columns(ctx context.Context, workspaceID string, asked []string) ([]string, error) {
	if len(asked) == 0 {
		asked = []string{ColID, ColFirstName, ColLastName, ColStage, ColSubscribed, ColCreatedAt, ColTags}
		fields, err := e.contacts.Fields(ctx, workspaceID, false)
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			asked = append(asked, FieldPrefix+f.Key)
		}
		return asked, nil
	}
	seen := map[string]bool{}
	for _, c := range asked {
		switch {
		case seen[c]:
			return nil, fmt.Errorf("%w: column %q is asked twice", ErrInvalid, c)
		case c == ColID, c == ColFirstName, c == ColLastName, c == ColStage, c == ColSubscribed, c == ColCreatedAt, c == ColTags:
		case strings.HasPrefix(c, FieldPrefix):
			f, err := e.contacts.FieldByKey(ctx, workspaceID, strings.TrimPrefix(c, FieldPrefix))
			if errors.Is(err, db.ErrNotFound) || err == nil && f.Archived() {
				return nil, fmt.Errorf("%w: the workspace has no field %q", ErrInvalid, strings.TrimPrefix(c, FieldPrefix))
			} else if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: unknown column %q", ErrInvalid, c)
		}
		seen[c] = true
	}
	return asked, nil
}

// Export writes the workspace's contacts (or a segment's members) to w as
// CSV, a page at a time in contact ID order, and returns how many it
// wrote. It records contact.export before writing anything: an export of
// personal data is on record even if the download is cut short. Cells are
// neutralized against formula injection. Unknown columns get ErrInvalid,
// a segment not in the workspace db.ErrNotFound, a segment whose
// definition no longer compiles segment.ErrInvalid.
func (e *Exporter) Export(ctx context.Context, a audit.Actor, workspaceID string, o ExportOptions, w io.Writer) (int, error) {
	cols, err := e.columns(ctx, workspaceID, o.Columns)
	if err != nil {
		return 0, fmt.Errorf("csvio: export: %w", err)
	}
	if o.SegmentID != "" {
		if _, err := e.segments.Get(ctx, workspaceID, o.SegmentID); err != nil {
			return 0, fmt.Errorf("csvio: export: %w", err)
		}
	}
	if err := audit.Record(ctx, e.d.W, e.now().UTC().Truncate(time.Microsecond), workspaceID, a, ActionExport, "contact_export", o.SegmentID,
		map[string]string{"segment_id": o.SegmentID, "columns": strings.Join(cols, ",")}); err != nil {
		return 0, fmt.Errorf("csvio: export: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := writeSafe(cw, cols); err != nil {
		return 0, fmt.Errorf("csvio: export: %w", err)
	}
	n := 0
	cursor := ""
	for {
		ids, next, err := e.page(ctx, workspaceID, o.SegmentID, cursor)
		if err != nil {
			return n, fmt.Errorf("csvio: export: %w", err)
		}
		if err := e.write(ctx, cw, workspaceID, cols, ids); err != nil {
			return n, fmt.Errorf("csvio: export: %w", err)
		}
		n += len(ids)
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("csvio: export: %w", err)
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}

// page returns the next contact IDs after cursor, and the cursor after
// them ("" at the end).
func (e *Exporter) page(ctx context.Context, workspaceID, segmentID, cursor string) ([]string, string, error) {
	if segmentID != "" {
		p, err := e.segments.Members(ctx, workspaceID, segment.Target{SegmentID: segmentID}, cursor, exportPage)
		return p.IDs, p.NextCursor, err
	}
	ids := []string{}
	if err := e.d.R.NewRaw(`SELECT id FROM contacts WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?`,
		workspaceID, cursor, exportPage).Scan(ctx, &ids); err != nil {
		return nil, "", err
	}
	if len(ids) < exportPage {
		return ids, "", nil
	}
	return ids, ids[len(ids)-1], nil
}

// write writes the contacts ids, in that order, skipping any erased since.
func (e *Exporter) write(ctx context.Context, cw *csv.Writer, workspaceID string, cols, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	people, err := e.contacts.GetMany(ctx, workspaceID, ids)
	if err != nil {
		return err
	}
	needFields, needTags := false, false
	for _, c := range cols {
		needFields = needFields || strings.HasPrefix(c, FieldPrefix)
		needTags = needTags || c == ColTags
	}
	for _, id := range ids {
		p, ok := people[id]
		if !ok {
			continue
		}
		var values map[string]contact.Value
		if needFields {
			if values, err = e.contacts.FieldValues(ctx, workspaceID, id); err != nil {
				return err
			}
		}
		var tags []string
		if needTags {
			ts, err := e.contacts.ContactTags(ctx, workspaceID, id)
			if err != nil {
				return err
			}
			for _, t := range ts {
				tags = append(tags, t.Name)
			}
		}
		rec := make([]string, len(cols))
		for i, c := range cols {
			switch c {
			case ColID:
				rec[i] = p.ID
			case ColFirstName:
				rec[i] = p.FirstName
			case ColLastName:
				rec[i] = p.LastName
			case ColStage:
				rec[i] = p.Stage
			case ColSubscribed:
				rec[i] = strconv.FormatBool(p.Subscribed)
			case ColCreatedAt:
				rec[i] = p.CreatedAt.UTC().Format(time.RFC3339)
			case ColTags:
				rec[i] = strings.Join(tags, ", ")
			default:
				rec[i] = values[strings.TrimPrefix(c, FieldPrefix)].Text
			}
		}
		if err := writeSafe(cw, rec); err != nil {
			return err
		}
	}
	return nil
}
