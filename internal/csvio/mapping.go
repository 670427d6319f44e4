package csvio

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
)

// Targets a column can be mapped to. A custom field is "field:<key>".
const (
	TargetFirstName = "first_name"
	TargetLastName  = "last_name"
	TargetTag       = "tag" // one or more tag names, separated by , ; or |
	TargetStage     = "stage"
	TargetSkip      = "skip"
	FieldPrefix     = "field:"
)

// Mapping says what each column (by its header) holds. Columns it does
// not name are skipped.
type Mapping map[string]string

// Options are the choices of the mapping step.
type Options struct {
	Mapping Mapping `json:"mapping"`
	// DedupeColumn is a column mapped to an e-mail or phone field: a row
	// whose value a contact already has updates that contact instead of
	// creating one. "" creates a contact per row.
	DedupeColumn string `json:"dedupe_column,omitempty"`
	// CreateTags creates tags the workspace does not have; without it a
	// row naming an unknown tag is refused.
	CreateTags bool `json:"create_tags,omitempty"`
	// Headers are the file's column names, filled in by Start (for the
	// report, written after the file is gone).
	Headers []string `json:"headers,omitempty"`
	// Region is the country (ISO 3166-1 alpha-2, such as "KH") phone
	// numbers without a country code are read in; "" accepts only
	// international numbers.
	Region string `json:"region,omitempty"`
}

// column is one mapped column of the file.
type column struct {
	index  int
	header string
	target string
	field  contact.Field // for field targets
}

// check validates o against the file's headers and the workspace's fields
// and returns the mapped columns in file order, and the dedupe column's
// index (-1 for none).
func (o Options) check(ctx context.Context, contacts *contact.Store, workspaceID string, headers []string) ([]column, int, error) {
	byHeader := map[string]int{}
	for i, h := range headers {
		byHeader[h] = i
	}
	for h := range o.Mapping {
		if _, ok := byHeader[h]; !ok {
			return nil, -1, fmt.Errorf("%w: the file has no column %q", ErrInvalid, h)
		}
	}
	if len(o.Region) != 0 && len(o.Region) != 2 {
		return nil, -1, fmt.Errorf("%w: the region must be a two-letter country code", ErrInvalid)
	}
	var cols []column
	used := map[string]bool{}
	dedupe := -1
	for i, h := range headers {
		target, ok := o.Mapping[h]
		if !ok || target == TargetSkip {
			continue
		}
		c := column{index: i, header: h, target: target}
		switch {
		case target == TargetFirstName, target == TargetLastName, target == TargetStage, target == TargetTag:
		case strings.HasPrefix(target, FieldPrefix):
			f, err := contacts.FieldByKey(ctx, workspaceID, strings.TrimPrefix(target, FieldPrefix))
			if errors.Is(err, db.ErrNotFound) {
				return nil, -1, fmt.Errorf("%w: column %q: the workspace has no field %q", ErrInvalid, h, strings.TrimPrefix(target, FieldPrefix))
			} else if err != nil {
				return nil, -1, err
			}
			if f.Archived() {
				return nil, -1, fmt.Errorf("%w: column %q: the field %q is archived", ErrInvalid, h, f.Key)
			}
			c.field = f
		default:
			return nil, -1, fmt.Errorf("%w: column %q: unknown target %q", ErrInvalid, h, target)
		}
		if target != TargetTag {
			if used[target] {
				return nil, -1, fmt.Errorf("%w: two columns are mapped to %q", ErrInvalid, target)
			}
			used[target] = true
		}
		if h == o.DedupeColumn {
			if c.field.Type != contact.FieldEmail && c.field.Type != contact.FieldPhone {
				return nil, -1, fmt.Errorf("%w: contacts can be matched only on an e-mail or phone field", ErrInvalid)
			}
			dedupe = len(cols)
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return nil, -1, fmt.Errorf("%w: map at least one column", ErrInvalid)
	}
	if o.DedupeColumn != "" && dedupe < 0 {
		return nil, -1, fmt.Errorf("%w: the column to match contacts on is not mapped", ErrInvalid)
	}
	return cols, dedupe, nil
}
