package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/parleyhq/parley/internal/backup"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/erasure"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/media"
)

// The operator's backup commands (issue 6 item 7, docs/operations/backup.md):
//
//	parley backup --out DIR
//	parley restore --from DIR/parley-backup-… [--tombstones FILE]
//	parley tombstones export [--since TIME] [--out FILE]
//	parley tombstones replay FILE
const backupUsage = `Usage:
  parley backup --out DIR
      write a consistent snapshot of the SQLite database without key
      material, its keys file and a manifest into a new directory in DIR
      (the server may keep running)
  parley restore --from DIR/parley-backup-… [--tombstones FILE]
      restore a backup into an empty data directory (PARLEY_DATA_DIR, with
      the master key in place), replaying the tombstones in FILE and in the
      backup before the database takes the name the server opens (without
      --tombstones it warns: what was erased after the backup comes back)
  parley tombstones export [--since 2026-11-01T00:00:00Z] [--out FILE]
      write the erasure log (contacts and workspaces erased) to FILE or
      standard output, to keep it outside the backups
  parley tombstones replay FILE
      erase again everything FILE names (after pg_restore, before serving)

PostgreSQL is backed up with pg_dump; see docs/operations/backup.md.
`

// backupCommand runs backup, restore and tombstones.
func backupCommand(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(nil, getenv, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("parley "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	var run func() error
	switch cmd {
	case "backup":
		out := fs.String("out", "", "directory to write the backup into")
		run = func() error {
			if *out == "" {
				return usageError("--out is required")
			}
			return backupDB(ctx, cfg, *out, stdout)
		}
	case "restore":
		from := fs.String("from", "", "the backup directory")
		tombs := fs.String("tombstones", "", "a file written by `parley tombstones export`")
		run = func() error {
			if *from == "" {
				return usageError("--from is required")
			}
			return restoreDB(ctx, cfg, *from, *tombs, stdout, stderr)
		}
	case "tombstones":
		if len(args) == 0 {
			fmt.Fprint(stderr, backupUsage)
			return 2
		}
		sub := args[0]
		args = args[1:]
		fs = flag.NewFlagSet("parley tombstones "+sub, flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
		switch sub {
		case "export":
			since := fs.String("since", "", "only tombstones from this time on (RFC 3339)")
			out := fs.String("out", "", "file to write (default: standard output)")
			run = func() error { return exportTombstones(ctx, cfg, *since, *out, stdout) }
		case "replay":
			run = func() error {
				if fs.NArg() != 1 {
					return usageError("want one tombstone file")
				}
				return replayTombstones(ctx, cfg, fs.Arg(0), stdout)
			}
		default:
			fmt.Fprintf(stderr, "parley tombstones: unknown command %q\n\n%s", sub, backupUsage)
			return 2
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cmd != "tombstones" && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parley %s: unexpected argument %q\n\n%s", cmd, fs.Arg(0), backupUsage)
		return 2
	}
	if err := run(); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "parley %s: %s\n\n%s", cmd, u, backupUsage)
			return 2
		}
		fmt.Fprintf(stderr, "parley %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

type usageError string

func (e usageError) Error() string { return string(e) }

func backupDB(ctx context.Context, cfg *config.Config, out string, stdout io.Writer) error {
	if cfg.DatabaseURL != "" {
		return backup.ErrPostgres
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	dir, m, err := backup.Backup(ctx, d, out, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", dir)
	fmt.Fprintf(stdout, "  %s (schema version %d, no key material)\n  %s (%d workspace and %d contact keys, wrapped under the master key)\n",
		m.Database.Name, m.SchemaVersion, m.Keys.Name, m.WorkspaceKeys, m.ContactKeys)
	fmt.Fprintln(stdout, "Store the keys file apart from the snapshots; keep the master key and the tombstone log (parley tombstones export) elsewhere again.")
	return nil
}

// noTombstonesWarning is what `parley restore` prints (to standard error)
// when run without --tombstones: the backup's own tombstones are replayed,
// but erasures made after it was taken are only in the current export.
const noTombstonesWarning = `warning: restoring without --tombstones: contacts and workspaces erased after this backup was taken come back.
  Give the current erasure log with --tombstones FILE (written by ` + "`parley tombstones export`" + ` on the instance being replaced),
  or run ` + "`parley tombstones replay FILE`" + ` before starting the server.
`

func restoreDB(ctx context.Context, cfg *config.Config, from, tombFile string, stdout, stderr io.Writer) error {
	if cfg.DatabaseURL != "" {
		return backup.ErrPostgres
	}
	m, err := existingMaster(cfg)
	if err != nil {
		return err
	}
	var ts []backup.Tombstone
	if tombFile != "" {
		if ts, err = readTombstoneFile(tombFile); err != nil {
			return err
		}
	} else {
		// Not refused: the current log may be lost with the instance,
		// and the backup's own tombstones are still replayed. But the
		// operator must know what comes back (M-6).
		fmt.Fprint(stderr, noTombstonesWarning)
	}
	res, err := backup.Restore(ctx, backup.RestoreOptions{From: from, DataDir: cfg.DataDir, Tombstones: ts,
		Replayer: func(d *db.DB) (backup.Replayer, error) { return newReplayer(d, m), nil }})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored the backup of %s to %s; %d tombstones from the file replayed, %d subjects erased again\n",
		res.Manifest.CreatedAt.Format(time.RFC3339), res.Path, len(ts), res.Erased)
	return nil
}

// existingMaster loads the master key without creating one: a restore
// under a new random key would bring back data nobody can open.
func existingMaster(cfg *config.Config) (*keyring.Master, error) {
	if len(cfg.MasterKey) == 0 {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, keyring.MasterKeyFile)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no master key: set PARLEY_MASTER_KEY or put the instance's %s in %s first", keyring.MasterKeyFile, cfg.DataDir)
		}
	}
	m, _, err := keyring.LoadMaster(cfg.MasterKey, cfg.DataDir)
	return m, err
}

func exportTombstones(ctx context.Context, cfg *config.Config, since, out string, stdout io.Writer) error {
	var from time.Time
	if since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return usageError("--since: want a time like 2026-11-01T00:00:00Z")
		}
		from = t
	}
	m, err := existingMaster(cfg)
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	ts, err := tombstoneService(d, m).Tombstones(ctx, from)
	if err != nil {
		return err
	}
	conv := make([]backup.Tombstone, 0, len(ts))
	for _, t := range ts {
		conv = append(conv, backup.Tombstone(t))
	}
	w := stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := backup.WriteTombstones(w, conv, time.Now()); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && out != "" {
		if err := f.Sync(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d tombstones written to %s\n", len(conv), out)
	}
	return nil
}

func replayTombstones(ctx context.Context, cfg *config.Config, file string, stdout io.Writer) error {
	ts, err := readTombstoneFile(file)
	if err != nil {
		return err
	}
	m, err := existingMaster(cfg)
	if err != nil {
		return err
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	// A database restored with pg_restore may be older than this binary.
	if _, err := d.Migrate(ctx); err != nil {
		return err
	}
	n, err := newReplayer(d, m).Replay(ctx, ts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d tombstones replayed; %d subjects erased again\n", len(ts), n)
	return nil
}

func readTombstoneFile(path string) ([]backup.Tombstone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return backup.ReadTombstones(f)
}

// tombstoneService is the erasure service over a database the server is
// not running on, without hooks (enough to list tombstones).
func tombstoneService(d *db.DB, m *keyring.Master) *erasure.Service {
	now := func() time.Time { return time.Now().UTC() }
	return erasure.New(d, keyring.New(d, m, keyring.Options{Now: now}), erasure.Options{Now: now, Log: slog.New(slog.DiscardHandler), Master: m})
}

// replayService is tombstoneService with the erasure hooks of the live
// app (erasure.go) that act on database rows, so that a replayed erasure
// removes what a live one does: the contact's media rows, and its
// data-subject records (exports, consent, privacy flags; its requests keep
// no contact ID nor reason). Media files are outside the database backup:
// the live erasure removed them, and the media sweep removes any left
// without a row.
func replayService(d *db.DB, m *keyring.Master) *erasure.Service {
	s := tombstoneService(d, m)
	now := func() time.Time { return time.Now().UTC() }
	kr := keyring.New(d, m, keyring.Options{Now: now})
	quiet := slog.New(slog.DiscardHandler)
	s.OnErase("media", media.New(d, kr, nil, media.Options{Now: now, Log: quiet}).EraseContact)
	s.OnErase("dsr", dsr.New(d, kr, dsr.Options{Now: now, Log: quiet}).ForgetContact)
	return s
}

// replayer adapts erasure.Service to backup.Replayer, adding the
// tombstones the database holds itself (harmless: Replay is idempotent).
type replayer struct{ s *erasure.Service }

func newReplayer(d *db.DB, m *keyring.Master) replayer { return replayer{replayService(d, m)} }

func (r replayer) Replay(ctx context.Context, ts []backup.Tombstone) (int, error) {
	own, err := r.s.Tombstones(ctx, time.Time{})
	if err != nil {
		return 0, err
	}
	for _, t := range ts {
		own = append(own, erasure.Tombstone(t))
	}
	return r.s.Replay(ctx, own)
}
