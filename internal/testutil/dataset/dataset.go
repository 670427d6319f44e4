package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
)

// DataVersion names the generator's layout: bump it whenever Generate
// writes different rows, so cached sets of the old layout are not reused.
const DataVersion = 1

// Size is how much a set holds.
type Size struct {
	// Contacts is the number of contacts; Conversations of conversations,
	// each with a different contact (so at most Contacts).
	Contacts, Conversations int
}

// Full is the data set: two million contacts, a million
// conversations, in one workspace.
func Full() Size { return Size{Contacts: 2_000_000, Conversations: 1_000_000} }

// Files of a set's directory, which is a Parley data directory.
const (
	dbFile     = "parley.db"
	apiKeyFile = "api_key"  // the secret of a viewer API key of the workspace
	infoFile   = "complete" // written last: the set is whole
	lockFile   = ".lock"    // next to the set's directory
)

// Set is a generated data set in a Parley data directory.
type Set struct {
	// Dir is the data directory: parley.db and master.key, as
	// PARLEY_DATA_DIR expects them, and the API key's secret.
	Dir  string
	Size Size
	// WorkspaceID is the one workspace; ChannelIDs its Messenger pages.
	WorkspaceID string
	ChannelIDs  []string
	// AgentIDs are the user IDs of its agents (conversation assignees).
	AgentIDs []string
	// APIKey is the secret of a viewer API key of the workspace.
	APIKey string
	// Generated is true when this call built the set (Took says how long);
	// false when it came from the cache.
	Generated bool
	Took      time.Duration
	// schema is the migration version the set was generated at.
	schema int64
}

// Bytes is the size of the set's database files.
func (s *Set) Bytes() int64 {
	var n int64
	files, _ := filepath.Glob(filepath.Join(s.Dir, dbFile+"*"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// masterKey is the fixed master key of every generated set, so that a
// cached set opens in later runs. It protects nothing: the data is made up.
func masterKey() []byte {
	k := sha256.Sum256([]byte("parley benchmark data set master key"))
	return k[:]
}

// Master returns the master key the set's values are sealed under.
func Master() *keyring.Master {
	m, err := keyring.NewMaster(masterKey())
	if err != nil {
		panic("dataset: " + err.Error()) // 32 bytes: cannot fail
	}
	return m
}

// Open opens the set's database and a keyring over it, prepared as the app
// prepares it, for reading: what is written through it stays in the cached
// set (CopyTo gives a process that writes its own copy). The caller closes
// the database.
func (s *Set) Open(ctx context.Context) (*db.DB, *keyring.Keyring, error) {
	d, err := db.Open(ctx, "", s.Dir, db.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: open: %w", err)
	}
	kr := keyring.New(d, Master(), keyring.Options{})
	if err := kr.Prepare(ctx); err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("dataset: open: %w", err)
	}
	return d, kr, nil
}

// CopyTo copies the set's database and master key into dir (created), for
// a process that will write to it: the cached set itself stays untouched.
func (s *Set) CopyTo(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("dataset: copy: %w", err)
	}
	files, _ := filepath.Glob(filepath.Join(s.Dir, dbFile+"*"))
	files = append(files, filepath.Join(s.Dir, keyring.MasterKeyFile))
	for _, f := range files {
		if err := copyFile(f, filepath.Join(dir, filepath.Base(f))); err != nil {
			return fmt.Errorf("dataset: copy: %w", err)
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Ensure returns the cached set of size under os.TempDir(), generating it
// first when there is none, when it is incomplete, or when its schema is
// behind the newest migration. logf (may be nil) hears the progress of a
// generation, which takes minutes at Full size.
func Ensure(ctx context.Context, size Size, logf func(format string, args ...any)) (*Set, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if size.Conversations > size.Contacts || size.Contacts < 1 {
		return nil, fmt.Errorf("dataset: bad size %+v", size)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("parley-dataset-v%d-%d-%d", DataVersion, size.Contacts, size.Conversations))
	unlock, err := lock(dir + lockFile)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if s, err := cached(ctx, dir, size); err == nil {
		return s, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		logf("dataset: regenerating %s: %v", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	// Sets of this size from older generators are gigabytes nobody reads.
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("parley-dataset-v*-%d-%d", size.Contacts, size.Conversations)))
	for _, o := range old {
		if o != dir {
			os.RemoveAll(o)
		}
	}
	start := time.Now()
	s, err := create(ctx, dir, size, logf)
	if err != nil {
		return nil, err
	}
	s.Generated, s.Took = true, time.Since(start)
	if err := os.WriteFile(filepath.Join(dir, infoFile), []byte(s.info()), 0o600); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	logf("dataset: generated %d contacts, %d conversations in %s; database %d MB", size.Contacts, size.Conversations,
		s.Took.Round(time.Second), s.Bytes()>>20)
	return s, nil
}

// lock takes an exclusive lock on path, waiting for another process that
// holds it (one generating the same set).
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dataset: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("dataset: lock: %w", err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// create generates a set in dir.
func create(ctx context.Context, dir string, size Size, logf func(string, ...any)) (*Set, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	// The master key file, as keyring.LoadMaster reads it.
	key := base64.StdEncoding.EncodeToString(masterKey()) + "\n"
	if err := os.WriteFile(filepath.Join(dir, keyring.MasterKeyFile), []byte(key), 0o600); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	d, err := db.Open(ctx, "", dir, db.Options{})
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	s, err := Generate(ctx, d, Master(), size, logf)
	if err != nil {
		return nil, err
	}
	s.Dir = dir
	if err := os.WriteFile(filepath.Join(dir, apiKeyFile), []byte(s.APIKey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return s, nil
}

// info is what the "complete" mark holds: the schema version and the IDs a
// user of the set needs, one "key value" a line.
func (s *Set) info() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schema %d\nworkspace %s\nchannels %s\nagents %s\ntook %s\n", s.schema, s.WorkspaceID,
		strings.Join(s.ChannelIDs, ","), strings.Join(s.AgentIDs, ","), s.Took.Round(time.Second))
	return b.String()
}

// cached opens the set in dir if it is complete and its schema is current;
// os.ErrNotExist when there is none.
func cached(ctx context.Context, dir string, size Size) (*Set, error) {
	b, err := os.ReadFile(filepath.Join(dir, infoFile))
	if err != nil {
		return nil, err
	}
	s := &Set{Dir: dir, Size: size}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "schema":
			s.schema, _ = strconv.ParseInt(v, 10, 64)
		case "workspace":
			s.WorkspaceID = v
		case "channels":
			s.ChannelIDs = strings.Split(v, ",")
		case "agents":
			s.AgentIDs = strings.Split(v, ",")
		case "took":
			s.Took, _ = time.ParseDuration(v)
		}
	}
	key, err := os.ReadFile(filepath.Join(dir, apiKeyFile))
	if err != nil {
		return nil, fmt.Errorf("read api key: %w", err)
	}
	s.APIKey = strings.TrimSpace(string(key))
	d, err := db.Open(ctx, "", dir, db.Options{ReadConns: 1})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	current, latest, err := d.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	if current != latest || current != s.schema || s.WorkspaceID == "" {
		return nil, fmt.Errorf("schema %d, generated at %d, newest migration %d", current, s.schema, latest)
	}
	return s, nil
}
