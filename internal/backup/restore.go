package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// RestoreOptions say what to restore where.
type RestoreOptions struct {
	// From is a backup directory written by Backup.
	From string
	// DataDir is the data directory to restore into. It must not hold a
	// database yet (it may hold the master key file).
	DataDir string
	// Tombstones are the erasures to replay (from `parley tombstones
	// export`); the Replayer may add those the snapshot holds itself.
	Tombstones []Tombstone
	// Replayer returns the replayer over the restored database, which is
	// open and migrated with its keys back when it is called. Required:
	// a restore that cannot replay the tombstones must not happen.
	Replayer func(d *db.DB) (Replayer, error)
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	// Path is the restored database file.
	Path     string
	Manifest Manifest
	// Erased counts the subjects the replay erased again.
	Erased int
}

// ErrNotEmpty: the data directory already holds a database.
var ErrNotEmpty = errors.New("backup: the data directory already holds a database; restore into an empty one")

// Restore restores the backup opt.From into opt.DataDir: it checks both
// files against the manifest, copies the snapshot to a scratch directory
// inside DataDir, migrates it, puts the keys back, replays the tombstones,
// and only then moves the file to DataDir/parley.db, where the server
// opens it. Until that last step nothing a server could open exists, so a
// restored instance never serves what a tombstone names. On any error the
// scratch copy is removed and DataDir is left as it was.
func Restore(ctx context.Context, opt RestoreOptions) (*RestoreResult, error) {
	res, err := restore(ctx, opt)
	if err != nil {
		return nil, fmt.Errorf("backup: restore: %w", err)
	}
	return res, nil
}

func restore(ctx context.Context, opt RestoreOptions) (*RestoreResult, error) {
	if opt.Replayer == nil {
		return nil, errors.New("no tombstone replayer")
	}
	m, keys, err := readBackup(opt.From)
	if err != nil {
		return nil, err
	}
	final := filepath.Join(opt.DataDir, DatabaseFile)
	for _, p := range []string{final, final + "-wal"} {
		if _, err := os.Stat(p); err == nil {
			return nil, ErrNotEmpty
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if err := os.MkdirAll(opt.DataDir, 0o700); err != nil {
		return nil, err
	}
	scratch := filepath.Join(opt.DataDir, ".restore-"+randomSuffix())
	if err := os.Mkdir(scratch, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	work := filepath.Join(scratch, DatabaseFile)
	if err := copyFile(filepath.Join(opt.From, DatabaseFile), work); err != nil {
		return nil, fmt.Errorf("copy snapshot: %w", err)
	}
	erased, err := prepare(ctx, scratch, keys, opt)
	if err != nil {
		return nil, err
	}
	// The one step that makes it visible to a server.
	if err := os.Rename(work, final); err != nil {
		return nil, err
	}
	return &RestoreResult{Path: final, Manifest: *m, Erased: erased}, nil
}

// prepare opens the scratch copy, migrates it, puts the keys back and
// replays the tombstones, then closes it with its write-ahead log folded
// into the file.
func prepare(ctx context.Context, scratch string, keys *keysFile, opt RestoreOptions) (erased int, err error) {
	d, err := db.Open(ctx, "", scratch, db.Options{})
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := d.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if _, err := d.Migrate(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return insertKeys(ctx, tx, keys) }); err != nil {
		return 0, err
	}
	r, err := opt.Replayer(d)
	if err != nil {
		return 0, fmt.Errorf("tombstone replayer: %w", err)
	}
	if erased, err = r.Replay(ctx, opt.Tombstones); err != nil {
		return 0, fmt.Errorf("replay tombstones: %w", err)
	}
	if _, err := d.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	return erased, nil
}

// readBackup reads the manifest and the keys file, checking both files
// against the manifest's digests.
func readBackup(dir string) (*Manifest, *keysFile, error) {
	var m Manifest
	if err := readJSON(filepath.Join(dir, ManifestFile), &m); err != nil {
		return nil, nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Format != ManifestFormat {
		return nil, nil, fmt.Errorf("manifest: format %q, want %q", m.Format, ManifestFormat)
	}
	for _, want := range []FileSum{m.Database, m.Keys} {
		if want.Name != DatabaseFile && want.Name != KeysFile {
			return nil, nil, fmt.Errorf("manifest: unexpected file %q", want.Name)
		}
		got, err := sum(filepath.Join(dir, want.Name))
		if err != nil {
			return nil, nil, err
		}
		if got != want {
			return nil, nil, fmt.Errorf("%s does not match the manifest (damaged, or from another backup)", want.Name)
		}
	}
	var k keysFile
	if err := readJSON(filepath.Join(dir, KeysFile), &k); err != nil {
		return nil, nil, fmt.Errorf("keys file: %w", err)
	}
	if k.Format != KeysFormat {
		return nil, nil, fmt.Errorf("keys file: format %q, want %q", k.Format, KeysFormat)
	}
	return &m, &k, nil
}

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewDecoder(f).Decode(v)
}

// copyFile copies src to a new private file dst, synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
