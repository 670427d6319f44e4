package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names the database engine behind a DB.
type Dialect string

// The two supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrNotFound and ErrConflict are the sentinels stores wrap so that callers
// can map them to 404 and 409 without knowing the engine.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// DB is Parley's handle on its database. Writes and transactions go through
// W (on SQLite, exactly one connection, so writers queue in Go instead of
// spinning on SQLITE_BUSY); plain reads may go through R (a pool of read-only
// connections on SQLite, the same pool on PostgreSQL).
//
// Never use W inside a function that already holds a transaction from Tx: on
// SQLite the one writer connection is busy with that transaction and the call
// would wait forever. Pass the bun.IDB you were given instead.
type DB struct {
	W       *bun.DB
	R       *bun.DB
	Dialect Dialect
	// Pool is the pgx pool on PostgreSQL (for LISTEN/NOTIFY and batches); nil on SQLite.
	Pool *pgxpool.Pool

	ckpt *checkpointer // SQLite's background checkpoints; nil on PostgreSQL
}

// Options tune Open. The zero value is fine.
type Options struct {
	// ReadConns is the size of the SQLite read pool (default 4).
	ReadConns int
	// MaxConns is the PostgreSQL pool size (default 16).
	MaxConns int32
}

// Open connects to the database named by url: empty opens (creating if
// needed) SQLite at dataDir/parley.db; postgres://… opens PostgreSQL.
// It does not migrate; call Migrate.
func Open(ctx context.Context, dsn, dataDir string, opt Options) (*DB, error) {
	if dsn == "" {
		return openSQLite(ctx, filepath.Join(dataDir, "parley.db"), opt)
	}
	return openPostgres(ctx, dsn, opt)
}

func openSQLite(ctx context.Context, path string, opt Options) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("db: create data directory: %w", err)
	}
	// Create the file ourselves so it is private (SQLite gives its -wal and
	// -shm files the same mode): it holds people's data.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("db: create %s: %w", path, err)
	}
	f.Close()
	// busy_timeout comes first so that the WAL switch itself waits for other
	// processes instead of failing. synchronous=NORMAL in WAL mode never
	// corrupts the database, and a killed process loses nothing it committed;
	// only a power cut can lose the last commits. secure_delete overwrites
	// deleted rows, so a shredded key does not linger in free pages.
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)", "secure_delete(ON)", "temp_store(MEMORY)", "cache_size(-16000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_time_format", "sqlite")
	base := "file:" + path + "?"
	// The checkpointer's connection: the same settings, no transactions.
	cdb, err := sql.Open("sqlite", base+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite: %w", err)
	}
	cdb.SetMaxOpenConns(1)
	cdb.SetConnMaxLifetime(0)
	cdb.SetConnMaxIdleTime(0)

	q.Set("_txlock", "immediate")
	wq := url.Values{}
	for k, v := range q {
		wq[k] = append([]string(nil), v...)
	}
	wq.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages))
	wdb, err := sql.Open("sqlite", base+wq.Encode())
	if err != nil {
		cdb.Close()
		return nil, fmt.Errorf("db: open sqlite: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	q.Add("_pragma", "query_only(1)")
	q.Set("_txlock", "deferred")
	rdb, err := sql.Open("sqlite", base+q.Encode())
	if err != nil {
		wdb.Close()
		cdb.Close()
		return nil, fmt.Errorf("db: open sqlite reader: %w", err)
	}
	n := opt.ReadConns
	if n <= 0 {
		n = 4
	}
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	rdb.SetConnMaxIdleTime(0)
	rdb.SetConnMaxLifetime(0)

	d := &DB{W: bun.NewDB(wdb, sqlitedialect.New()), R: bun.NewDB(rdb, sqlitedialect.New()), Dialect: SQLite}
	d.ckpt = startCheckpointer(cdb)
	if err := d.W.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("db: connect sqlite %s: %w", path, err)
	}
	var mode string
	if err := d.W.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		d.Close()
		return nil, fmt.Errorf("db: sqlite journal mode is %q, want wal: %v", mode, err)
	}
	return d, nil
}

func openPostgres(ctx context.Context, dsn string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("db: parse PARLEY_DATABASE_URL: %w", redact(err, dsn))
	}
	cfg.MaxConns = opt.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: connect postgres: %w", redact(err, dsn))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: connect postgres: %w", redact(err, dsn))
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	b := bun.NewDB(sqldb, pgdialect.New())
	return &DB{W: b, R: b, Dialect: Postgres, Pool: pool}, nil
}

// redact keeps a password in a connection string out of error messages.
func redact(err error, dsn string) error {
	u, perr := url.Parse(dsn)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

// Close closes every pool.
func (d *DB) Close() error {
	var errs []error
	if d.ckpt != nil {
		errs = append(errs, d.ckpt.close())
	}
	errs = append(errs, d.W.Close())
	if d.R != d.W {
		errs = append(errs, d.R.Close())
	}
	if d.Pool != nil {
		d.Pool.Close()
	}
	return errors.Join(errs...)
}

// Tx runs fn in a transaction on the writer and commits when fn returns nil.
// On SQLite the transaction starts IMMEDIATE, taking the write lock up front so
// it can never fail half-way with SQLITE_BUSY.
func (d *DB) Tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return d.W.RunInTx(ctx, nil, fn)
}

// Ping checks that the database answers (for /readyz).
func (d *DB) Ping(ctx context.Context) error { return d.W.PingContext(ctx) }

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine, so stores can turn it into ErrConflict.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || // SQLite
		strings.Contains(s, "SQLSTATE 23505") || strings.Contains(s, "duplicate key value") // PostgreSQL
}

// NoRows maps sql.ErrNoRows to ErrNotFound and leaves other errors alone.
func NoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// OneRow turns the result of an UPDATE or DELETE that must touch a row into
// ErrNotFound when it touched none.
func OneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
