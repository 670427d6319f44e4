package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
)

// systemActor is who the purge acts as in the audit log.
var systemActor = audit.Actor{}

// Purge deletes a workspace whose grace period is over (see delete.go). It
// returns nil without doing anything when the workspace is gone already or
// its deletion was cancelled, and ErrPurgeNotDue (wrapped) before PurgeAt.
// It is idempotent and resumable: every step can be cut short and run
// again. ctx bounds the whole purge; each batch is its own transaction.
func (x *Deleter) Purge(ctx context.Context, workspaceID string) error {
	if err := x.purge(ctx, workspaceID); err != nil {
		return fmt.Errorf("workspace: purge: %w", err)
	}
	return nil
}

func (x *Deleter) purge(ctx context.Context, workspaceID string) error {
	w, err := getWorkspace(ctx, x.d.R, workspaceID)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return nil
	case err != nil:
		return err
	case !w.Deleting():
		return nil
	case x.now().Before(*w.PurgeAt):
		return ErrPurgeNotDue
	}
	// Unsubscribe while the tokens can still be opened: the keys go next.
	x.closeChannels(ctx, systemActor, workspaceID)
	if err := x.startPurge(ctx, workspaceID); err != nil {
		return err
	}
	tables, err := x.purgeTables(ctx)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, t := range tables {
		if err := x.drain(ctx, t, workspaceID); err != nil {
			return fmt.Errorf("table %s: %w", t.name, err)
		}
	}
	if err := x.drainJobs(ctx, workspaceID); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if x.deps.AfterRows != nil {
		if err := x.deps.AfterRows(ctx, workspaceID); err != nil {
			return fmt.Errorf("outside the database: %w", err)
		}
	}
	err = x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`DELETE FROM workspaces WHERE id = ?`, workspaceID).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, x.now(), workspaceID, systemActor, ActionWorkspacePurged, targetWorkspace, workspaceID, nil)
	})
	if err != nil {
		return err
	}
	// A job that was running during the purge may have queued a follow-up
	// meanwhile; with the workspace gone nothing queues one any more.
	if err := x.drainJobs(ctx, workspaceID); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	return nil
}

// startPurge destroys the keys and records the tombstone, once: a resumed
// purge finds purge_started_at set and skips it.
func (x *Deleter) startPurge(ctx context.Context, workspaceID string) error {
	return x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockWorkspaceRow(ctx, x.d, tx, workspaceID); err != nil {
			return err
		}
		var row struct {
			Requested sql.NullTime `bun:"deletion_requested_at"`
			Started   sql.NullTime `bun:"purge_started_at"`
		}
		if err := tx.NewRaw(`SELECT deletion_requested_at, purge_started_at FROM workspaces WHERE id = ?`, workspaceID).Scan(ctx, &row); err != nil {
			return db.NoRows(err)
		}
		if !row.Requested.Valid {
			return ErrNotDeleting // cancelled between the check and now
		}
		if row.Started.Valid {
			return nil
		}
		now := x.now()
		if _, err := tx.NewRaw(`UPDATE workspaces SET purge_started_at = ? WHERE id = ?`, now, workspaceID).Exec(ctx); err != nil {
			return err
		}
		if err := x.deps.Keys.DestroyWorkspaceKeys(ctx, tx, workspaceID); err != nil {
			return err
		}
		if x.deps.Tombstones != nil {
			if err := x.deps.Tombstones.RecordWorkspace(ctx, tx, workspaceID); err != nil {
				return fmt.Errorf("record tombstone: %w", err)
			}
		}
		return audit.Record(ctx, tx, now, workspaceID, systemActor, ActionWorkspacePurgeStart, targetWorkspace, workspaceID, nil)
	})
}

// drain deletes the workspace's rows of one table, a batch per transaction,
// until none is left.
func (x *Deleter) drain(ctx context.Context, t purgeTable, workspaceID string) error {
	q := t.deleteBatch(x.d.Dialect)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var n int64
		err := x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			res, err := tx.NewRaw(q, workspaceID, x.opt.BatchSize).Exec(ctx)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return err
		}
		if n < int64(x.opt.BatchSize) {
			return nil
		}
	}
}

// drainJobs deletes queued jobs whose payload names the workspace (every
// job about a workspace's data carries its ID), except the purge itself.
func (x *Deleter) drainJobs(ctx context.Context, workspaceID string) error {
	q := `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE kind <> ? AND instr(CAST(payload AS TEXT), ?) > 0 LIMIT ?)`
	if x.d.Dialect == db.Postgres {
		q = `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE kind <> ? AND position(convert_to(?, 'UTF8') in payload) > 0 LIMIT ?)`
	}
	for {
		var n int64
		err := x.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			res, err := tx.NewRaw(q, PurgeJobKind, workspaceID, x.opt.BatchSize).Exec(ctx)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil || n < int64(x.opt.BatchSize) {
			return err
		}
	}
}

// DuePurges lists the workspaces whose grace period ended by now, for a
// periodic sweep that catches a purge job lost or dead-lettered.
func (x *Deleter) DuePurges(ctx context.Context) ([]string, error) {
	ids := []string{}
	err := x.d.R.NewRaw(`SELECT id FROM workspaces WHERE purge_at IS NOT NULL AND purge_at <= ? ORDER BY purge_at, id`, x.now()).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("workspace: due purges: %w", err)
	}
	return ids, nil
}

// purgeTable is one table the purge empties of a workspace's rows.
type purgeTable struct {
	name string
	// pk lists the primary key columns of a SQLite WITHOUT ROWID table
	// (nil: batches go by rowid, or by ctid on PostgreSQL).
	pk []string
}

func (t purgeTable) deleteBatch(d db.Dialect) string {
	name := quoteIdent(t.name)
	switch {
	case d == db.Postgres:
		return `DELETE FROM ` + name + ` WHERE ctid = ANY(ARRAY(SELECT ctid FROM ` + name + ` WHERE workspace_id = ? LIMIT ?))`
	case len(t.pk) > 0:
		cols := ""
		for i, c := range t.pk {
			if i > 0 {
				cols += ", "
			}
			cols += quoteIdent(c)
		}
		return `DELETE FROM ` + name + ` WHERE (` + cols + `) IN (SELECT ` + cols + ` FROM ` + name + ` WHERE workspace_id = ? LIMIT ?)`
	}
	return `DELETE FROM ` + name + ` WHERE rowid IN (SELECT rowid FROM ` + name + ` WHERE workspace_id = ? LIMIT ?)`
}

func quoteIdent(s string) string { return `"` + s + `"` }

// alwaysRetained are kept by every purge: the audit log is append-only for
// 12 months (P-06) and its actors are pseudonymous IDs; the key tables were
// emptied by the first step already.
var alwaysRetained = []string{"audit_log", "workspace_keys", "contact_keys"}

// purgeTables lists every table with a workspace_id column, except the
// retained ones, ordered so that a table comes before the tables it
// references (children before parents): deleting a parent row first would
// either fail on a foreign key or cascade an unbounded number of children.
// It reads the live schema, so tables added by later migrations are purged
// without anyone remembering to list them.
func (x *Deleter) purgeTables(ctx context.Context) ([]purgeTable, error) {
	var (
		tables []purgeTable
		edges  [][2]string // child, parent
		err    error
	)
	if x.d.Dialect == db.Postgres {
		tables, edges, err = postgresSchema(ctx, x.d.R)
	} else {
		tables, edges, err = sqliteSchema(ctx, x.d.R)
	}
	if err != nil {
		return nil, err
	}
	tables = slices.DeleteFunc(tables, func(t purgeTable) bool {
		return slices.Contains(alwaysRetained, t.name) || slices.Contains(x.opt.Retained, t.name)
	})
	return childrenFirst(tables, edges), nil
}

// childrenFirst orders tables so that every table comes before the tables
// it references. Self-references are ignored; a cycle (none today) falls
// back to name order for the tables in it.
func childrenFirst(tables []purgeTable, edges [][2]string) []purgeTable {
	slices.SortFunc(tables, func(a, b purgeTable) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	in := map[string]bool{}
	for _, t := range tables {
		in[t.name] = true
	}
	// children[p] = tables in the set that reference p and are not yet out.
	children := map[string]map[string]bool{}
	for _, e := range edges {
		c, p := e[0], e[1]
		if c == p || !in[c] || !in[p] {
			continue
		}
		if children[p] == nil {
			children[p] = map[string]bool{}
		}
		children[p][c] = true
	}
	out := make([]purgeTable, 0, len(tables))
	done := map[string]bool{}
	for len(out) < len(tables) {
		progressed := false
		for _, t := range tables {
			if done[t.name] || len(children[t.name]) > 0 {
				continue
			}
			out, done[t.name], progressed = append(out, t), true, true
			for p := range children {
				delete(children[p], t.name)
			}
		}
		if !progressed { // a cycle: take the first remaining table
			for _, t := range tables {
				if !done[t.name] {
					out, done[t.name] = append(out, t), true
					for p := range children {
						delete(children[p], t.name)
					}
					break
				}
			}
		}
	}
	return out
}

func sqliteSchema(ctx context.Context, idb bun.IDB) ([]purgeTable, [][2]string, error) {
	var all []struct {
		Name string `bun:"name"`
		SQL  string `bun:"sql"`
	}
	if err := idb.NewRaw(`SELECT name, COALESCE(sql, '') AS sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).Scan(ctx, &all); err != nil {
		return nil, nil, err
	}
	var (
		tables []purgeTable
		edges  [][2]string
	)
	for _, t := range all {
		var cols []struct {
			Name string `bun:"name"`
			PK   int    `bun:"pk"`
		}
		if err := idb.NewRaw(`SELECT name, pk FROM pragma_table_info(?) ORDER BY pk`, t.Name).Scan(ctx, &cols); err != nil {
			return nil, nil, err
		}
		var parents []string
		if err := idb.NewRaw(`SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, t.Name).Scan(ctx, &parents); err != nil {
			return nil, nil, err
		}
		for _, p := range parents {
			edges = append(edges, [2]string{t.Name, p})
		}
		has := false
		var pk []string
		for _, c := range cols {
			has = has || c.Name == "workspace_id"
			if c.PK > 0 {
				pk = append(pk, c.Name)
			}
		}
		if !has {
			continue
		}
		pt := purgeTable{name: t.Name}
		if strings.Contains(strings.ToUpper(t.SQL), "WITHOUT ROWID") {
			pt.pk = pk
		}
		tables = append(tables, pt)
	}
	return tables, edges, nil
}

func postgresSchema(ctx context.Context, idb bun.IDB) ([]purgeTable, [][2]string, error) {
	var names []string
	if err := idb.NewRaw(`SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'workspace_id' AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name`).Scan(ctx, &names); err != nil {
		return nil, nil, err
	}
	var fks []struct {
		Child  string `bun:"child"`
		Parent string `bun:"parent"`
	}
	if err := idb.NewRaw(`SELECT DISTINCT ch.relname AS child, pa.relname AS parent
		FROM pg_constraint k
		JOIN pg_class ch ON ch.oid = k.conrelid
		JOIN pg_class pa ON pa.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = ch.relnamespace
		WHERE k.contype = 'f' AND n.nspname = current_schema()`).Scan(ctx, &fks); err != nil {
		return nil, nil, err
	}
	tables := make([]purgeTable, 0, len(names))
	for _, n := range names {
		tables = append(tables, purgeTable{name: n})
	}
	edges := make([][2]string, 0, len(fks))
	for _, f := range fks {
		edges = append(edges, [2]string{f.Child, f.Parent})
	}
	return tables, edges, nil
}
