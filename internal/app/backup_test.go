package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// parley runs the parley command line with env and returns its exit code and
// output.
func parley(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := app.Run(context.Background(), args, func(k string) string { return env[k] }, &out, &errs)
	return code, out.String() + errs.String()
}

// dataDirOf is the directory of a SQLite database.
func dataDirOf(t *testing.T, d *db.DB) string {
	t.Helper()
	var path string
	if err := d.R.QueryRowContext(context.Background(), `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(path)
}

// sealedMessage is one stored message body with what opens it.
type sealedMessage struct {
	aad     keyring.AAD
	contact string
	body    []byte
}

func firstInbound(t *testing.T, d *db.DB, ws, contact string) sealedMessage {
	t.Helper()
	var m struct {
		ID   string `bun:"id"`
		Body []byte `bun:"body"`
	}
	if err := d.R.NewRaw(`SELECT m.id, m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.workspace_id = ? AND c.contact_id = ? AND m.direction = 'in' ORDER BY m.id LIMIT 1`, ws, contact).Scan(context.Background(), &m); err != nil {
		t.Fatal(err)
	}
	return sealedMessage{aad: keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: m.ID}, contact: contact, body: m.Body}
}

// opens reports whether m opens in d under master.
func (m sealedMessage) opens(t *testing.T, d *db.DB, master *keyring.Master) bool {
	t.Helper()
	_, err := keyring.New(d, master, keyring.Options{CacheTTL: -1}).OpenContact(context.Background(), m.aad, m.contact, m.body)
	if err != nil && !errors.Is(err, keyring.ErrKeyDestroyed) {
		t.Fatalf("open: %v", err)
	}
	return err == nil
}

// Issue 6 item 7 and security.md §3.M M-6, the restore drill through the
// operator's commands: `parley backup` while the server runs; a contact is
// erased after it; `parley tombstones export` keeps the log; `parley
// restore --tombstones` into an empty data directory replays it before the
// database takes the server's file name → the erased contact is not in the
// restored database and its old ciphertext does not open, while the other
// contact's still does. A control restore without the log brings the
// contact back, which is what the replay prevents.
func TestBackupRestoreDrill(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	master, err := keyring.NewMaster(key)
	if err != nil {
		t.Fatal(err)
	}
	d := dbtest.SQLite(t)
	a := apptest.New(t, d, apptest.Started(), apptest.WithConfig(func(c *config.Config) { c.MasterKey = key }))
	ctx := context.Background()
	p := populate(t, a, d)
	erased, kept := p.contacts[0], p.contacts[1]
	erasedMsg, keptMsg := firstInbound(t, d, p.ws, erased), firstInbound(t, d, p.ws, kept)
	env := map[string]string{"PARLEY_DATA_DIR": dataDirOf(t, d), "PARLEY_MASTER_KEY": base64.StdEncoding.EncodeToString(key)}

	out := t.TempDir()
	if code, msg := parley(t, env, "backup", "--out", out); code != 0 {
		t.Fatalf("parley backup: %d %s", code, msg)
	}
	backups, err := os.ReadDir(out)
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups: %v %v", backups, err)
	}
	from := filepath.Join(out, backups[0].Name())

	if err := a.EraseContact(ctx, audit.Actor{UserID: p.owner.ID}, p.ws, erased); err != nil {
		t.Fatal(err)
	}
	if erasedMsg.opens(t, d, master) {
		t.Fatal("the erasure did not destroy the contact's key")
	}
	log := filepath.Join(t.TempDir(), "tombstones.json")
	if code, msg := parley(t, env, "tombstones", "export", "--out", log); code != 0 {
		t.Fatalf("parley tombstones export: %d %s", code, msg)
	}

	restored := t.TempDir()
	renv := map[string]string{"PARLEY_DATA_DIR": restored, "PARLEY_MASTER_KEY": env["PARLEY_MASTER_KEY"]}
	code, msg := parley(t, renv, "restore", "--from", from, "--tombstones", log)
	if code != 0 {
		t.Fatalf("parley restore: %d %s", code, msg)
	}
	if !strings.Contains(msg, "1 subjects erased again") || strings.Contains(msg, "warning:") {
		t.Errorf("restore said: %s", msg)
	}
	rd, err := db.Open(ctx, "", restored, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if n := countRows(t, rd, `SELECT count(*) FROM contacts WHERE id = ?`, erased); n != 0 {
		t.Error("the erased contact is back after the restore")
	}
	if erasedMsg.opens(t, rd, master) {
		t.Error("the erased contact's old ciphertext opens after the restore")
	}
	if !keptMsg.opens(t, rd, master) {
		t.Error("the other contact's message does not open after the restore")
	}
	if code, msg := parley(t, renv, "restore", "--from", from, "--tombstones", log); code == 0 || !strings.Contains(msg, "already holds a database") {
		t.Errorf("a second restore over the first: %d %s", code, msg)
	}

	control := t.TempDir()
	cenv := map[string]string{"PARLEY_DATA_DIR": control, "PARLEY_MASTER_KEY": env["PARLEY_MASTER_KEY"]}
	code, msg = parley(t, cenv, "restore", "--from", from)
	if code != 0 {
		t.Fatalf("control restore: %d %s", code, msg)
	}
	// Without the log the operator is told what comes back.
	if !strings.Contains(msg, "warning: restoring without --tombstones") || !strings.Contains(msg, "erased after this backup was taken come back") {
		t.Errorf("a restore without --tombstones did not warn: %s", msg)
	}
	cd, err := db.Open(ctx, "", control, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cd.Close()
	if !erasedMsg.opens(t, cd, master) {
		t.Error("without the tombstones the contact did not come back: the drill proves nothing")
	}

	// Restoring without the master key in place is refused: a fresh key
	// would open nothing.
	if code, msg := parley(t, map[string]string{"PARLEY_DATA_DIR": t.TempDir()}, "restore", "--from", from); code == 0 || !strings.Contains(msg, "no master key") {
		t.Errorf("restore without a master key: %d %s", code, msg)
	}
}

// The backup commands refuse bad use with a usage error and PostgreSQL
// with the pointer to pg_dump.
func TestBackupCommandRefusals(t *testing.T) {
	env := map[string]string{"PARLEY_DATA_DIR": t.TempDir()}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"backup"}, 2, "--out is required"},
		{[]string{"restore"}, 2, "--from is required"},
		{[]string{"tombstones"}, 2, "parley tombstones export"},
		{[]string{"tombstones", "shred"}, 2, "unknown command"},
		{[]string{"tombstones", "replay"}, 2, "want one tombstone file"},
		{[]string{"tombstones", "export", "--since", "yesterday"}, 2, "--since"},
		{[]string{"backup", "--out", t.TempDir(), "extra"}, 2, "unexpected argument"},
	}
	for _, c := range cases {
		if code, msg := parley(t, env, c.args...); code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("parley %v: %d %q, want %d and %q", c.args, code, msg, c.code, c.want)
		}
	}
	pg := map[string]string{"PARLEY_DATABASE_URL": "postgres://parley@127.0.0.1:1/parley", "PARLEY_DATA_DIR": t.TempDir()}
	if code, msg := parley(t, pg, "backup", "--out", t.TempDir()); code != 1 || !strings.Contains(msg, "pg_dump") {
		t.Errorf("backup on PostgreSQL: %d %s", code, msg)
	}
}

// security.md §3.M M-6 on both databases, the way PostgreSQL is restored
// (pg_restore brings rows back; docs/operations/backup.md): a contact is
// erased; its rows and key come back as a restore would bring them;
// `parley tombstones replay` with the exported log erases it again — row
// and key — and a second replay finds nothing left.
func TestTombstoneReplayCommand(t *testing.T) {
	for _, dialect := range dbtest.Dialects(t) {
		t.Run(string(dialect), func(t *testing.T) {
			key := make([]byte, 32)
			rand.Read(key)
			master, err := keyring.NewMaster(key)
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"PARLEY_MASTER_KEY": base64.StdEncoding.EncodeToString(key)}
			var d *db.DB
			if dialect == db.Postgres {
				var dsn string
				d, dsn = dbtest.PostgresDSN(t)
				if _, err := d.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
				env["PARLEY_DATABASE_URL"] = dsn
				env["PARLEY_DATA_DIR"] = t.TempDir()
			} else {
				d = dbtest.SQLite(t)
				env["PARLEY_DATA_DIR"] = dataDirOf(t, d)
			}
			a := apptest.New(t, d, apptest.Started(), apptest.WithConfig(func(c *config.Config) { c.MasterKey = key }))
			ctx := context.Background()
			p := populate(t, a, d)
			erased := p.contacts[0]
			msg := firstInbound(t, d, p.ws, erased)
			saved := map[string][]map[string]any{}
			for _, table := range []string{"contacts", "contact_keys"} {
				saved[table] = rowsOf(t, d, `SELECT * FROM `+table+` WHERE workspace_id = ? AND `+idColumn(table)+` = ?`, p.ws, erased)
			}
			if err := a.EraseContact(ctx, audit.Actor{UserID: p.owner.ID}, p.ws, erased); err != nil {
				t.Fatal(err)
			}
			log := filepath.Join(t.TempDir(), "tombstones.json")
			if code, out := parley(t, env, "tombstones", "export", "--out", log); code != 0 {
				t.Fatalf("export: %d %s", code, out)
			}
			// What a restore from before the erasure brings back.
			for _, table := range []string{"contacts", "contact_keys"} {
				for _, row := range saved[table] {
					insertRow(t, d, table, row)
				}
			}
			// A privacy request naming the contact, as the backup held it
			// (the erasure unlinked it in the live database).
			now := time.Now().UTC()
			if _, err := d.W.ExecContext(ctx, `INSERT INTO dsr_requests (id, workspace_id, contact_id, kind, state, received_at,
				acknowledge_by, complete_by, reason, created_by, created_at, updated_at)
				VALUES ('dsr-restored', ?, ?, 'access', 'received', ?, ?, ?, 'canary reason', 'user:x', ?, ?)`,
				p.ws, erased, now, now, now, now, now); err != nil {
				t.Fatal(err)
			}
			if !msg.opens(t, d, master) {
				t.Fatal("the simulated restore did not bring the key back")
			}
			code, out := parley(t, env, "tombstones", "replay", log)
			if code != 0 || !strings.Contains(out, "1 subjects erased again") {
				t.Fatalf("replay: %d %s", code, out)
			}
			if n := countRows(t, d, `SELECT count(*) FROM contacts WHERE id = ?`, erased); n != 0 {
				t.Error("the contact is still there after the replay")
			}
			// The live erasure's dsr hook ran on the replay too.
			if n := countRows(t, d, `SELECT count(*) FROM dsr_requests WHERE id = 'dsr-restored' AND contact_id IS NULL AND reason = ''`); n != 1 {
				t.Error("the replay left the privacy request naming the contact, with its reason")
			}
			if msg.opens(t, d, master) {
				t.Error("the old ciphertext opens after the replay")
			}
			if code, out := parley(t, env, "tombstones", "replay", log); code != 0 || !strings.Contains(out, "0 subjects erased again") {
				t.Errorf("second replay: %d %s", code, out)
			}
		})
	}
}

func idColumn(table string) string {
	if table == "contact_keys" {
		return "contact_id"
	}
	return "id"
}

// rowsOf reads rows as column → value maps.
func rowsOf(t *testing.T, d *db.DB, q string, args ...any) []map[string]any {
	t.Helper()
	rows, err := d.R.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("no rows for %s", q)
	}
	return out
}

func insertRow(t *testing.T, d *db.DB, table string, row map[string]any) {
	t.Helper()
	var cols, marks []string
	var vals []any
	for c, v := range row {
		cols = append(cols, c)
		marks = append(marks, "?")
		vals = append(vals, v)
	}
	q := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `)`
	if _, err := d.W.ExecContext(context.Background(), q, vals...); err != nil {
		t.Fatalf("restore a %s row: %v", table, err)
	}
}

// Promise P-33 ("including from backups") and M-6 for a whole workspace:
// backed up, then deleted and purged after its grace period; the restore
// with the tombstone log brings back none of it, and none of its sealed
// content opens.
func TestBackupRestoreDrillWorkspace(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	master, err := keyring.NewMaster(key)
	if err != nil {
		t.Fatal(err)
	}
	d := dbtest.SQLite(t)
	a := apptest.New(t, d, apptest.Started(), apptest.WithConfig(func(c *config.Config) {
		c.MasterKey = key
		c.WorkspacePurgeAfter = deletionGrace
	}))
	ctx := context.Background()
	p := populate(t, a, d)
	keep := p.owner.CreateWorkspace(t, "Stays Open")
	msg := firstInbound(t, d, p.ws, p.contacts[0])
	env := map[string]string{"PARLEY_DATA_DIR": dataDirOf(t, d), "PARLEY_MASTER_KEY": base64.StdEncoding.EncodeToString(key)}
	out := t.TempDir()
	if code, msg := parley(t, env, "backup", "--out", out); code != 0 {
		t.Fatalf("parley backup: %d %s", code, msg)
	}
	backups, _ := os.ReadDir(out)
	from := filepath.Join(out, backups[0].Name())

	requestDeletion(t, p)
	a.Clock.Advance(deletionGrace)
	a.Jobs.Notify()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	waitFor(t, wctx, "the purge", func() bool {
		return countRows(t, d, `SELECT count(*) FROM workspaces WHERE id = ?`, p.ws) == 0
	})
	log := filepath.Join(t.TempDir(), "tombstones.json")
	if code, msg := parley(t, env, "tombstones", "export", "--out", log); code != 0 {
		t.Fatalf("export: %d %s", code, msg)
	}
	restored := t.TempDir()
	if code, msg := parley(t, map[string]string{"PARLEY_DATA_DIR": restored, "PARLEY_MASTER_KEY": env["PARLEY_MASTER_KEY"]},
		"restore", "--from", from, "--tombstones", log); code != 0 {
		t.Fatalf("restore: %d %s", code, msg)
	}
	rd, err := db.Open(ctx, "", restored, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for _, q := range []string{
		`SELECT count(*) FROM workspaces WHERE id = ?`,
		`SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`,
		`SELECT count(*) FROM contact_keys WHERE workspace_id = ?`,
	} {
		if n := countRows(t, rd, q, p.ws); n != 0 {
			t.Errorf("restored: %s = %d", q, n)
		}
	}
	if msg.opens(t, rd, master) {
		t.Error("the purged workspace's old ciphertext opens after the restore")
	}
	if n := countRows(t, rd, `SELECT count(*) FROM workspaces WHERE id = ?`, keep); n != 1 {
		t.Error("the other workspace did not come back")
	}
}
