package dataset

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/workspace"
)

// Shape of the workspace around the contacts.
const (
	agentCount   = 20
	teamCount    = 3
	channelCount = 2
	tagCount     = 10
	// batchContacts is one unit of work of a sealing goroutine; txContacts
	// how many contacts (with their conversations) one transaction commits.
	batchContacts = 2000
	txContacts    = 100_000
	rowsPerInsert = 100 // rows of one multi-row INSERT
)

// bulkTables are the tables Generate fills in bulk: their secondary
// indexes are dropped while loading and created again afterwards.
func bulkTables() []string {
	return []string{"contacts", "contact_keys", "contact_tags", "conversations", "messages"}
}

// Generate fills d (migrated, SQLite, empty) with a set of size sealed
// under m: a workspace with its owner, agents, teams, tags, Messenger
// channels and a viewer API key made through the services, then the
// contacts, their keys, conversations and messages in bulk. logf hears the
// progress. The returned Set has no Dir. After an error the database is
// half-loaded (indexes dropped): throw it away.
func Generate(ctx context.Context, d *db.DB, m *keyring.Master, size Size, logf func(string, ...any)) (*Set, error) {
	if d.Dialect != db.SQLite {
		return nil, errors.New("dataset: generate: SQLite only")
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	end := time.Now().UTC().Truncate(time.Second)
	kr := keyring.New(d, m, keyring.Options{})
	s, err := setup(ctx, d, kr, end)
	if err != nil {
		return nil, fmt.Errorf("dataset: generate: %w", err)
	}
	s.Size = size
	wsKeyID, wsKey, err := workspaceKey(ctx, d, m, s.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("dataset: generate: %w", err)
	}
	g := &gen{set: s, end: end, wsKeyID: wsKeyID, wsKey: wsKey, tagIDs: s.tagIDs, teamIDs: s.teamIDs, words: newWords()}
	if err := g.load(ctx, d, logf); err != nil {
		return nil, fmt.Errorf("dataset: generate: %w", err)
	}
	if _, s.schema, err = d.MigrationStatus(ctx); err != nil {
		return nil, fmt.Errorf("dataset: generate: %w", err)
	}
	return s.Set, nil
}

// setupSet is a Set with what the bulk rows refer to.
type setupSet struct {
	*Set
	tagIDs, teamIDs []string
}

// setup creates the workspace and everything small in it through the
// services (or as they write it, for users, teams and tags).
func setup(ctx context.Context, d *db.DB, kr *keyring.Keyring, end time.Time) (setupSet, error) {
	s := setupSet{Set: &Set{}}
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	user := func(name string) (string, error) {
		id := newID()
		email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@bench.example"
		_, err := d.W.NewRaw(`INSERT INTO users (id, email, email_key, name, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'v1$no-sign-in', ?, ?, ?, ?)`, id, email, email, name, end, end, end, end).Exec(ctx)
		return id, err
	}
	owner, err := user("Bench Owner")
	if err != nil {
		return s, fmt.Errorf("owner: %w", err)
	}
	ws := workspace.NewService(d, kr, workspace.Options{})
	w, err := ws.Create(ctx, audit.Actor{UserID: owner}, "Bench", "")
	if err != nil {
		return s, err
	}
	s.WorkspaceID = w.ID
	for i := range agentCount {
		id, err := user(fmt.Sprintf("Agent %d", i+1))
		if err != nil {
			return s, fmt.Errorf("agent: %w", err)
		}
		if _, err := d.W.NewRaw(`INSERT INTO members (workspace_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'agent', ?, ?)`,
			w.ID, id, end, end).Exec(ctx); err != nil {
			return s, fmt.Errorf("member: %w", err)
		}
		s.AgentIDs = append(s.AgentIDs, id)
	}
	for i := range teamCount {
		id := newID()
		name := fmt.Sprintf("Team %d", i+1)
		if _, err := d.W.NewRaw(`INSERT INTO teams (id, workspace_id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, w.ID, name, strings.ToLower(name), end, end).Exec(ctx); err != nil {
			return s, fmt.Errorf("team: %w", err)
		}
		for j, a := range s.AgentIDs {
			if j%teamCount == i {
				if _, err := d.W.NewRaw(`INSERT INTO team_members (workspace_id, team_id, user_id, created_at) VALUES (?, ?, ?, ?)`,
					w.ID, id, a, end).Exec(ctx); err != nil {
					return s, fmt.Errorf("team member: %w", err)
				}
			}
		}
		s.teamIDs = append(s.teamIDs, id)
	}
	for i := range tagCount {
		id := newID()
		name := fmt.Sprintf("tag-%d", i+1)
		if _, err := d.W.NewRaw(`INSERT INTO tags (id, workspace_id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			id, w.ID, name, name, end, end).Exec(ctx); err != nil {
			return s, fmt.Errorf("tag: %w", err)
		}
		s.tagIDs = append(s.tagIDs, id)
	}
	chs := channel.NewStore(d, kr, func() time.Time { return end })
	for i := range channelCount {
		page := fmt.Sprintf("10000000000%d", i+1)
		c, err := chs.Connect(ctx, audit.Actor{UserID: owner}, channel.Connection{
			WorkspaceID: w.ID, Type: channel.Messenger, ExternalID: page, Name: "Bench page " + page, Token: "bench-token-" + page,
		})
		if err != nil {
			return s, err
		}
		s.ChannelIDs = append(s.ChannelIDs, c.ID)
	}
	_, secret, err := ws.CreateAPIKey(ctx, audit.Actor{UserID: owner}, workspace.RoleOwner, w.ID, "bench", workspace.RoleViewer)
	if err != nil {
		return s, err
	}
	s.APIKey = secret
	return s, nil
}

// workspaceKey unwraps the workspace's primary key as the keyring does
// (security.md §2.3: sealed under the master's dek-wrap key, associated
// data "ws-dek", workspace, key ID), to wrap contact keys under it.
func workspaceKey(ctx context.Context, d *db.DB, m *keyring.Master, workspaceID string) (uint32, []byte, error) {
	var id int64
	var wrapped []byte
	if err := d.W.QueryRowContext(ctx, `SELECT key_id, wrapped FROM workspace_keys WHERE workspace_id = ? AND is_primary`,
		workspaceID).Scan(&id, &wrapped); err != nil {
		return 0, nil, fmt.Errorf("workspace key: %w", err)
	}
	wrap := m.Derive(keyring.PurposeDEKWrap)
	key, err := keyring.Open(func(uint32) ([]byte, error) { return wrap, nil }, wrapped,
		keyring.AAD{Workspace: workspaceID, Table: "ws-dek", Row: fmt.Sprint(id)})
	if err != nil {
		return 0, nil, fmt.Errorf("unwrap workspace key: %w", err)
	}
	return uint32(id), key, nil
}

// load writes the contacts and everything under them: sealing goroutines
// make batches of rows, in order, and the writer inserts them.
func (g *gen) load(ctx context.Context, d *db.DB, logf func(string, ...any)) error {
	conn, err := d.W.DB.Conn(ctx) // the one writer connection
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		return nil
	}
	indexes, err := dropIndexes(ctx, conn)
	if err != nil {
		return err
	}
	for _, q := range []string{`PRAGMA foreign_keys = OFF`, `PRAGMA synchronous = OFF`, `PRAGMA secure_delete = OFF`, `PRAGMA cache_size = -500000`} {
		if err := exec(q); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := g.insertAll(ctx, conn, logf); err != nil {
		return err
	}
	t1 := time.Now()
	for _, q := range indexes {
		if err := exec(q); err != nil {
			return err
		}
	}
	logf("dataset: rows in %s, indexes in %s", t1.Sub(start).Round(time.Second), time.Since(t1).Round(time.Second))
	for _, q := range []string{`PRAGMA foreign_keys = ON`, `PRAGMA synchronous = NORMAL`, `PRAGMA secure_delete = ON`,
		`PRAGMA cache_size = -16000`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if err := exec(q); err != nil {
			return err
		}
	}
	return nil
}

// dropIndexes drops the secondary indexes of bulkTables and returns the
// SQL that creates them again, as their migrations wrote it.
func dropIndexes(ctx context.Context, conn *sql.Conn) ([]string, error) {
	tables := bulkTables()
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (` +
		strings.TrimSuffix(strings.Repeat("?,", len(tables)), ",") + `) ORDER BY name`
	args := make([]any, len(tables))
	for i, t := range tables {
		args[i] = t
	}
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	var names, create []string
	for rows.Next() {
		var n, s string
		if err := rows.Scan(&n, &s); err != nil {
			rows.Close()
			return nil, err
		}
		names, create = append(names, n), append(create, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := conn.ExecContext(ctx, `DROP INDEX "`+n+`"`); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", n, err)
		}
	}
	return create, nil
}

// insertAll runs the sealing goroutines and inserts their batches in
// order, committing every txContacts contacts.
func (g *gen) insertAll(ctx context.Context, conn *sql.Conn, logf func(string, ...any)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := g.set.Size.Contacts
	nb := (n + batchContacts - 1) / batchContacts
	workers := max(1, runtime.GOMAXPROCS(0))
	// results[i] receives batch i; at most 2×workers batches are in flight.
	results := make([]chan batchResult, nb)
	for i := range results {
		results[i] = make(chan batchResult, 1)
	}
	sem := make(chan struct{}, 2*workers)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				b, err := g.batch(i*batchContacts, min(n, (i+1)*batchContacts))
				results[i] <- batchResult{b, err}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range nb {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	// On the way out, whatever happened: stop the dispatcher (it may wait
	// for room that only this loop makes) and the workers, then roll back
	// an unfinished transaction.
	var tx *sql.Tx
	defer func() {
		cancel()
		wg.Wait()
		if tx != nil {
			tx.Rollback()
		}
	}()

	start := time.Now()
	var ins *inserters
	done := 0
	for i := range nb {
		var r batchResult
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-sem
		if r.err != nil {
			return r.err
		}
		if tx == nil {
			var err error
			if tx, err = conn.BeginTx(ctx, nil); err != nil {
				return err
			}
			if ins, err = newInserters(ctx, tx); err != nil {
				return err
			}
		}
		if err := ins.add(ctx, r.b); err != nil {
			ins.close()
			return err
		}
		done = min(n, (i+1)*batchContacts)
		if done%txContacts == 0 || i == nb-1 {
			err := ins.flush(ctx)
			ins.close()
			if err != nil {
				return err
			}
			err = tx.Commit()
			tx = nil
			if err != nil {
				return err
			}
			if done%(5*txContacts) == 0 {
				logf("dataset: %d of %d contacts in %s", done, n, time.Since(start).Round(time.Second))
			}
		}
	}
	return nil
}

type batchResult struct {
	b   *batch
	err error
}

// inserters hold one multi-row insert per bulk table, in one transaction.
type inserters struct {
	contacts, keys, tags, convs, msgs *inserter
}

func newInserters(ctx context.Context, tx *sql.Tx) (*inserters, error) {
	var ins inserters
	var err error
	mk := func(table, cols string) *inserter {
		if err != nil {
			return nil
		}
		var i *inserter
		i, err = newInserter(ctx, tx, table, cols)
		return i
	}
	ins.contacts = mk("contacts", contactCols)
	ins.keys = mk("contact_keys", keyCols)
	ins.tags = mk("contact_tags", tagCols)
	ins.convs = mk("conversations", convCols)
	ins.msgs = mk("messages", msgCols)
	if err != nil {
		ins.close()
		return nil, err
	}
	return &ins, nil
}

func (ins *inserters) all() []*inserter {
	return []*inserter{ins.contacts, ins.keys, ins.tags, ins.convs, ins.msgs}
}

// add inserts a batch; rows of a table's parent go first (foreign keys are
// off, but the order keeps the file's pages in creation order).
func (ins *inserters) add(ctx context.Context, b *batch) error {
	for _, p := range []struct {
		i    *inserter
		rows []any
	}{{ins.contacts, b.contacts}, {ins.keys, b.keys}, {ins.tags, b.tags}, {ins.convs, b.convs}, {ins.msgs, b.msgs}} {
		if err := p.i.add(ctx, p.rows); err != nil {
			return err
		}
	}
	return nil
}

func (ins *inserters) flush(ctx context.Context) error {
	for _, i := range ins.all() {
		if err := i.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (ins *inserters) close() {
	for _, i := range ins.all() {
		if i != nil {
			i.stmt.Close()
		}
	}
}

// inserter buffers rows of one table and inserts them rowsPerInsert at a
// time through one prepared statement.
type inserter struct {
	tx    *sql.Tx
	head  string // INSERT INTO t (cols) VALUES
	row   string // (?, ?, …)
	width int
	stmt  *sql.Stmt
	buf   []any
}

func newInserter(ctx context.Context, tx *sql.Tx, table, cols string) (*inserter, error) {
	width := len(strings.Split(cols, ","))
	i := &inserter{tx: tx, head: `INSERT INTO ` + table + ` (` + cols + `) VALUES `, width: width,
		row: "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"}
	var err error
	if i.stmt, err = tx.PrepareContext(ctx, i.query(rowsPerInsert)); err != nil {
		return nil, fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	return i, nil
}

func (i *inserter) query(rows int) string {
	return i.head + strings.TrimSuffix(strings.Repeat(i.row+",", rows), ",")
}

// add buffers values (whole rows), inserting every full statement's worth.
func (i *inserter) add(ctx context.Context, values []any) error {
	i.buf = append(i.buf, values...)
	full := rowsPerInsert * i.width
	for len(i.buf) >= full {
		if _, err := i.stmt.ExecContext(ctx, i.buf[:full]...); err != nil {
			return fmt.Errorf("%s…: %w", i.head, err)
		}
		i.buf = append(i.buf[:0], i.buf[full:]...)
	}
	return nil
}

// flush inserts what is buffered.
func (i *inserter) flush(ctx context.Context) error {
	if len(i.buf) == 0 {
		return nil
	}
	if _, err := i.tx.ExecContext(ctx, i.query(len(i.buf)/i.width), i.buf...); err != nil {
		return fmt.Errorf("%s…: %w", i.head, err)
	}
	i.buf = i.buf[:0]
	return nil
}
