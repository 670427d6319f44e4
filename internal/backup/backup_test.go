package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/backup"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

var at = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// subject stands in for erasure's HMAC: any stable 64-hex-digit function.
func subject(id string) string {
	s := sha256.Sum256([]byte(id))
	return hex.EncodeToString(s[:])
}

// fakeReplayer erases contacts the way erasure does for what matters
// here: it destroys the contact's key. It records what it was given.
type fakeReplayer struct {
	d      *db.DB
	kr     *keyring.Keyring
	seen   []backup.Tombstone
	failed error
}

func (r *fakeReplayer) Replay(ctx context.Context, ts []backup.Tombstone) (int, error) {
	r.seen = append(r.seen, ts...)
	if r.failed != nil {
		return 0, r.failed
	}
	n := 0
	for _, t := range ts {
		var ids []string
		if err := r.d.R.NewRaw(`SELECT contact_id FROM contact_keys WHERE workspace_id = ?`, t.WorkspaceID).Scan(ctx, &ids); err != nil {
			return n, err
		}
		for _, id := range ids {
			if subject(id) == t.Subject {
				if err := r.kr.DestroyContactKey(ctx, nil, t.WorkspaceID, id); err != nil {
					return n, err
				}
				n++
			}
		}
	}
	return n, nil
}

// instance is a live SQLite Parley's data layer: a workspace with two
// contacts, each with a message sealed under their own key.
type instance struct {
	d      *db.DB
	master *keyring.Master
	kr     *keyring.Keyring
	ws     string
	sealed map[string][]byte // contact ID → its sealed message
}

func aad(ws, contact string) keyring.AAD {
	return keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m-" + contact}
}

func newInstance(t *testing.T, d *db.DB) *instance {
	t.Helper()
	ctx := context.Background()
	m, err := keyring.NewMaster(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{d: d, master: m, kr: keyring.New(d, m, keyring.Options{CacheTTL: -1}), sealed: map[string][]byte{}}
	now := at
	if _, err := d.W.NewRaw(`INSERT INTO users (id, email, email_key, name, password_hash, age_confirmed_at, password_changed_at, created_at, updated_at)
		VALUES ('u1', 'owner@example.com', 'owner@example.com', 'Owner', 'v1$x', ?, ?, ?, ?)`, now, now, now, now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := workspace.NewService(d, in.kr, workspace.Options{Now: func() time.Time { return now }}).Create(ctx, as("u1"), "Drill", "")
	if err != nil {
		t.Fatal(err)
	}
	in.ws = w.ID
	for _, c := range []string{"keep", "erase"} {
		env, err := in.kr.SealContact(ctx, aad(in.ws, c), c, []byte("message of "+c))
		if err != nil {
			t.Fatal(err)
		}
		in.sealed[c] = env
	}
	return in
}

// opens reports whether contact c's old ciphertext opens in d.
func (in *instance) opens(t *testing.T, d *db.DB, c string) bool {
	t.Helper()
	kr := keyring.New(d, in.master, keyring.Options{CacheTTL: -1})
	pt, err := kr.OpenContact(context.Background(), aad(in.ws, c), c, in.sealed[c])
	if err == nil {
		if string(pt) != "message of "+c {
			t.Fatalf("opened %q", pt)
		}
		return true
	}
	if !errors.Is(err, keyring.ErrKeyDestroyed) {
		t.Fatalf("open %s: %v", c, err)
	}
	return false
}

func openRestored(t *testing.T, dir string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), "", dir, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func (in *instance) restore(t *testing.T, from, dataDir string, ts []backup.Tombstone) (*backup.RestoreResult, *fakeReplayer, error) {
	var r *fakeReplayer
	res, err := backup.Restore(context.Background(), backup.RestoreOptions{From: from, DataDir: dataDir, Tombstones: ts,
		Replayer: func(d *db.DB) (backup.Replayer, error) {
			r = &fakeReplayer{d: d, kr: keyring.New(d, in.master, keyring.Options{CacheTTL: -1})}
			return r, nil
		}})
	return res, r, err
}

// Issue 6 item 7: the snapshot holds no key material — no key row, and
// not one wrapped key's bytes anywhere in the file — while the keys file
// holds every key, still wrapped; the manifest's digests match; every file
// is private to the operator.
func TestBackupHoldsNoKeys(t *testing.T) {
	in := newInstance(t, dbtest.SQLite(t))
	ctx := context.Background()
	var wrapped [][]byte
	for _, q := range []string{`SELECT wrapped FROM workspace_keys`, `SELECT wrapped FROM contact_keys`} {
		var ws [][]byte
		if err := in.d.R.NewRaw(q).Scan(ctx, &ws); err != nil {
			t.Fatal(err)
		}
		wrapped = append(wrapped, ws...)
	}
	if len(wrapped) != 3 {
		t.Fatalf("%d keys in the live database, want 3", len(wrapped))
	}
	dir, m, err := backup.Backup(ctx, in.d, t.TempDir(), at)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(dir) != "parley-backup-20261121T090000Z" {
		t.Errorf("backup directory %s", dir)
	}
	if m.WorkspaceKeys != 1 || m.ContactKeys != 2 {
		t.Errorf("manifest counts %d workspace and %d contact keys", m.WorkspaceKeys, m.ContactKeys)
	}
	snap, err := os.ReadFile(filepath.Join(dir, backup.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadFile(filepath.Join(dir, backup.KeysFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range wrapped {
		if bytes.Contains(snap, w) || bytes.Contains(snap, []byte(hex.EncodeToString(w))) {
			t.Errorf("the snapshot holds wrapped key %d", i)
		}
		if !strings.Contains(string(keys), base64.StdEncoding.EncodeToString(w)) {
			t.Errorf("the keys file lacks wrapped key %d", i)
		}
	}
	if !bytes.Contains(snap, []byte("owner@example.com")) {
		t.Error("the snapshot does not look like a copy of the database")
	}
	restored := openRestored(t, copyDir(t, dir))
	for _, table := range backup.KeyTables {
		var n int
		if err := restored.R.NewRaw(`SELECT count(*) FROM `+table).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the snapshot's %s has %d rows", table, n)
		}
	}
	for _, f := range []string{backup.DatabaseFile, backup.KeysFile, backup.ManifestFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if _, _, err := backup.Backup(ctx, in.d, filepath.Dir(dir), at); err == nil {
		t.Error("a second backup at the same second overwrote the first")
	}
}

// security.md §3.M M-6, the restore drill: back up; erase a contact after
// the backup (its key destroyed, a tombstone recorded); restore the backup
// with the tombstones → the contact's old ciphertext no longer opens,
// while the other contact's still does (the keys came back). Restored
// without the tombstones, the erased contact would be readable again:
// that is what the replay prevents.
func TestRestoreDrill(t *testing.T) {
	in := newInstance(t, dbtest.SQLite(t))
	ctx := context.Background()
	dir, _, err := backup.Backup(ctx, in.d, t.TempDir(), at)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.kr.DestroyContactKey(ctx, nil, in.ws, "erase"); err != nil {
		t.Fatal(err)
	}
	if in.opens(t, in.d, "erase") {
		t.Fatal("erasure did not destroy the key")
	}
	ts := []backup.Tombstone{{Kind: "contact", WorkspaceID: in.ws, Subject: subject("erase"), At: at.Add(time.Hour)}}
	var file bytes.Buffer
	if err := backup.WriteTombstones(&file, ts, at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	fromFile, err := backup.ReadTombstones(&file)
	if err != nil {
		t.Fatal(err)
	}

	dataDir := t.TempDir()
	res, r, err := in.restore(t, dir, dataDir, fromFile)
	if err != nil {
		t.Fatal(err)
	}
	if res.Erased != 1 || len(r.seen) != 1 {
		t.Errorf("erased %d from %d tombstones, want 1 of 1", res.Erased, len(r.seen))
	}
	if res.Path != filepath.Join(dataDir, backup.DatabaseFile) {
		t.Errorf("restored to %s", res.Path)
	}
	restored := openRestored(t, dataDir)
	if !in.opens(t, restored, "keep") {
		t.Error("the kept contact's message does not open after the restore")
	}
	if in.opens(t, restored, "erase") {
		t.Error("the erased contact's old ciphertext opens after restore and replay")
	}
	left, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.HasPrefix(e.Name(), ".restore-") {
			t.Errorf("scratch directory %s left behind", e.Name())
		}
	}

	// The control: without the tombstones the key comes back.
	control := t.TempDir()
	if _, _, err := in.restore(t, dir, control, nil); err != nil {
		t.Fatal(err)
	}
	if !in.opens(t, openRestored(t, control), "erase") {
		t.Error("the control restore did not bring the key back: the drill proves nothing")
	}
}

// Restore refuses, leaving the data directory without a database, when
// the directory already has one, when a file does not match the manifest,
// when there is no replayer or the replay fails.
func TestRestoreRefusals(t *testing.T) {
	in := newInstance(t, dbtest.SQLite(t))
	ctx := context.Background()
	dir, _, err := backup.Backup(ctx, in.d, t.TempDir(), at)
	if err != nil {
		t.Fatal(err)
	}
	tampered := copyDir(t, dir)
	p := filepath.Join(tampered, backup.KeysFile)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte(`"is_primary": true`), []byte(`"is_primary": false`), 1), 0o600)

	replayer := func(err error) func(d *db.DB) (backup.Replayer, error) {
		return func(d *db.DB) (backup.Replayer, error) { return &fakeReplayer{d: d, failed: err}, nil }
	}
	cases := []struct {
		name    string
		from    string
		prepare func(dataDir string)
		replay  func(d *db.DB) (backup.Replayer, error)
		want    error
	}{
		{"data dir not empty", dir, func(dd string) { os.WriteFile(filepath.Join(dd, backup.DatabaseFile), nil, 0o600) }, replayer(nil), backup.ErrNotEmpty},
		{"tampered keys file", tampered, nil, replayer(nil), nil},
		{"no replayer", dir, nil, nil, nil},
		{"replay fails", dir, nil, replayer(errors.New("boom")), nil},
		{"no backup", filepath.Join(dir, "missing"), nil, replayer(nil), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dataDir := t.TempDir()
			if c.prepare != nil {
				c.prepare(dataDir)
			}
			_, err := backup.Restore(ctx, backup.RestoreOptions{From: c.from, DataDir: dataDir, Replayer: c.replay})
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.prepare == nil {
				if _, err := os.Stat(filepath.Join(dataDir, backup.DatabaseFile)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a refused restore left a database: %v", err)
				}
			}
			left, _ := os.ReadDir(dataDir)
			for _, e := range left {
				if strings.HasPrefix(e.Name(), ".restore-") {
					t.Errorf("scratch directory %s left behind", e.Name())
				}
			}
		})
	}
}

// PostgreSQL is backed up with pg_dump: Backup says so and writes nothing.
func TestBackupRefusesPostgres(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if d.Dialect != db.Postgres {
			return
		}
		out := t.TempDir()
		if _, _, err := backup.Backup(context.Background(), d, out, at); !errors.Is(err, backup.ErrPostgres) {
			t.Fatalf("err = %v, want ErrPostgres", err)
		}
		if left, _ := os.ReadDir(out); len(left) != 0 {
			t.Errorf("wrote %d entries", len(left))
		}
	})
}

func as(userID string) audit.Actor { return audit.Actor{UserID: userID} }

func copyDir(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
