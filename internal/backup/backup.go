package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/parleyhq/parley/internal/db"
)

// File names inside a backup directory.
const (
	DatabaseFile = "parley.db"
	KeysFile     = "keys.json"
	ManifestFile = "manifest.json"
)

// ManifestFormat names the manifest format.
const ManifestFormat = "parley-backup/1"

// ErrPostgres: Backup and Restore handle SQLite; PostgreSQL is backed up
// with pg_dump (docs/operations/backup.md).
var ErrPostgres = errors.New("backup: this database is PostgreSQL: use pg_dump and pg_restore, then `parley tombstones replay` (docs/operations/backup.md)")

// Manifest describes a backup.
type Manifest struct {
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	// SchemaVersion is the migration the snapshot was at.
	SchemaVersion int64 `json:"schema_version"`
	// Database and Keys are the two files with their SHA-256, checked
	// before anything is restored.
	Database FileSum `json:"database"`
	Keys     FileSum `json:"keys"`
	// WorkspaceKeys and ContactKeys count the rows in the keys file.
	WorkspaceKeys int `json:"workspace_keys"`
	ContactKeys   int `json:"contact_keys"`
}

// FileSum names a file of the backup and its hex SHA-256.
type FileSum struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Backup writes a backup of the SQLite database d into a new directory
// under outDir, named after now (parley-backup-20261121T090000Z), and
// returns its path and manifest. The snapshot is consistent (VACUUM INTO
// reads one transaction's view while the server keeps running and
// writing) and holds no key rows; the keys file holds them, wrapped. A
// failure leaves no directory behind.
func Backup(ctx context.Context, d *db.DB, outDir string, now time.Time) (string, *Manifest, error) {
	if d.Dialect != db.SQLite {
		return "", nil, ErrPostgres
	}
	now = now.UTC()
	dir := filepath.Join(outDir, "parley-backup-"+now.Format("20060102T150405Z"))
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return "", nil, fmt.Errorf("backup: create %s: %w", outDir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("backup: create %s: %w", dir, err)
	}
	m, err := write(ctx, d, dir, now)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("backup: %w", err)
	}
	return dir, m, nil
}

func write(ctx context.Context, d *db.DB, dir string, now time.Time) (*Manifest, error) {
	version, _, err := d.MigrationStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("schema version: %w", err)
	}
	snap := filepath.Join(dir, DatabaseFile+".partial")
	if err := snapshot(ctx, d, snap); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	keys, err := stripKeys(ctx, snap)
	if err != nil {
		return nil, err
	}
	keys.CreatedAt = now
	dbPath := filepath.Join(dir, DatabaseFile)
	if err := os.Rename(snap, dbPath); err != nil {
		return nil, err
	}
	keysPath := filepath.Join(dir, KeysFile)
	if err := writeJSON(keysPath, keys); err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	m := &Manifest{Format: ManifestFormat, CreatedAt: now, SchemaVersion: version,
		WorkspaceKeys: len(keys.WorkspaceKeys), ContactKeys: len(keys.ContactKeys)}
	if m.Database, err = sum(dbPath); err != nil {
		return nil, err
	}
	if m.Keys, err = sum(keysPath); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(dir, ManifestFile), m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return m, nil
}

// snapshot copies the live database to path with VACUUM INTO, through a
// connection of its own: VACUUM INTO only reads the source, in one read
// transaction (so the copy is consistent), and the server's writer stays
// free meanwhile. The reader pool cannot run it: its connections are
// query_only, which refuses VACUUM INTO whatever file it writes.
func snapshot(ctx context.Context, d *db.DB, path string) error {
	var src string
	if err := d.R.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&src); err != nil {
		return fmt.Errorf("find the database file: %w", err)
	}
	if src == "" {
		return errors.New("the database is in memory")
	}
	// An empty file VACUUM INTO may fill, created private first: it holds
	// people's data.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	conn, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return err
	}
	return conn.Close()
}

// stripKeys moves the key rows out of the snapshot at path: it reads them,
// deletes them, and rewrites the file (VACUUM, with secure_delete on), so
// not even a free page of the snapshot holds a wrapped key.
func stripKeys(ctx context.Context, path string) (*keysFile, error) {
	sqldb, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(ON)&_pragma=secure_delete(ON)&_time_format=sqlite")
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	sqldb.SetMaxOpenConns(1)
	snap := bun.NewDB(sqldb, sqlitedialect.New())
	defer snap.Close()
	var keys *keysFile
	err = snap.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if keys, err = readKeys(ctx, tx); err != nil {
			return err
		}
		return deleteKeys(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("strip keys from snapshot: %w", err)
	}
	if _, err := snap.ExecContext(ctx, `VACUUM`); err != nil {
		return nil, fmt.Errorf("rewrite snapshot: %w", err)
	}
	if err := snap.Close(); err != nil {
		return nil, fmt.Errorf("close snapshot: %w", err)
	}
	return keys, nil
}

// writeJSON writes v to a new private file at path, synced.
func writeJSON(path string, v any) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// sum returns the file's name, SHA-256 and size.
func sum(path string) (FileSum, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileSum{}, err
	}
	return FileSum{Name: filepath.Base(path), SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
