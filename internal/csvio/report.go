package csvio

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/parleyhq/parley/internal/keyring"
)

// MaxRowErrors caps a page of RowErrors.
const MaxRowErrors = 1000

// RowErrors returns up to n (at most MaxRowErrors) refused rows of the
// workspace's import after the line after, in line order: the validation
// report shown beside the progress. Messages hold no personal data.
func (im *Importer) RowErrors(ctx context.Context, workspaceID, importID string, after, n int) ([]RowError, error) {
	if n <= 0 || n > MaxRowErrors {
		n = MaxRowErrors
	}
	var rows []struct {
		Row     int    `bun:"row_no"`
		Col     string `bun:"col"`
		Message string `bun:"message"`
	}
	if err := im.d.R.NewRaw(`SELECT row_no, col, message FROM contact_import_errors WHERE workspace_id = ? AND import_id = ? AND row_no > ?
		ORDER BY row_no LIMIT ?`, workspaceID, importID, after, n).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("csvio: row errors: %w", err)
	}
	out := make([]RowError, 0, len(rows))
	for _, r := range rows {
		out = append(out, RowError{Row: r.Row, Column: r.Col, Message: r.Message})
	}
	return out, nil
}

// Report writes the refused rows of the workspace's import as CSV: row,
// column, problem, then the row's own cells under the file's headers, for
// the person to fix and import again. Every cell is neutralized against
// formula injection. db.ErrNotFound for an import not in the workspace.
func (im *Importer) Report(ctx context.Context, workspaceID, importID string, w io.Writer) error {
	imp, err := im.Status(ctx, workspaceID, importID)
	if err != nil {
		return fmt.Errorf("csvio: report: %w", err)
	}
	cw := csv.NewWriter(w)
	header := []string{"row", "column", "problem"}
	if hs := imp.headers(); len(hs) > 0 {
		header = append(header, hs...)
	}
	if err := writeSafe(cw, header); err != nil {
		return fmt.Errorf("csvio: report: %w", err)
	}
	after := 0
	for {
		var rows []struct {
			Row     int    `bun:"row_no"`
			Col     string `bun:"col"`
			Message string `bun:"message"`
			Data    []byte `bun:"row_data"`
		}
		if err := im.d.R.NewRaw(`SELECT row_no, col, message, row_data FROM contact_import_errors
			WHERE workspace_id = ? AND import_id = ? AND row_no > ? ORDER BY row_no LIMIT 500`,
			workspaceID, importID, after).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("csvio: report: %w", err)
		}
		for _, r := range rows {
			after = r.Row
			rec := []string{strconv.Itoa(r.Row), r.Col, r.Message}
			cells, err := im.openRow(ctx, workspaceID, importID, r.Row, r.Data)
			if err != nil {
				return fmt.Errorf("csvio: report: %w", err)
			}
			// A short row is padded, so the report opens as a table.
			for len(cells) < len(header)-len(rec) {
				cells = append(cells, "")
			}
			if err := writeSafe(cw, append(rec, cells...)); err != nil {
				return fmt.Errorf("csvio: report: %w", err)
			}
		}
		if len(rows) < 500 {
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csvio: report: %w", err)
	}
	return nil
}

// headers are the file's mapped and unmapped column names as the mapping
// knows them (the file itself is gone once the import ends).
func (i Import) headers() []string {
	return i.Options.Headers
}

// openRow opens a refused row's cells; a workspace key destroyed since
// leaves them out.
func (im *Importer) openRow(ctx context.Context, workspaceID, importID string, row int, sealed []byte) ([]string, error) {
	if sealed == nil {
		return nil, nil
	}
	pt, err := im.kr.OpenWorkspace(ctx, rowAAD(workspaceID, importID, row), sealed)
	if errors.Is(err, keyring.ErrKeyDestroyed) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(pt))
	r.FieldsPerRecord = -1
	return r.Read()
}

// writeSafe writes a record with every cell neutralized.
func writeSafe(w *csv.Writer, rec []string) error {
	out := make([]string, len(rec))
	for i, c := range rec {
		out[i] = Neutralize(c)
	}
	return w.Write(out)
}
