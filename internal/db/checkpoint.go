package db

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite's write-ahead log is copied back into the database file by a
// checkpoint. Left to itself, SQLite runs one inside whichever commit takes
// the log past 1,000 pages: that commit — an acknowledgement waiting for
// its webhook delivery to be stored, say — also pays for writing and
// syncing every page changed since the last one. The checkpointer does the
// work on its own connection instead, every checkpointEvery, in PASSIVE
// mode: it never waits for or blocks the writer or the readers, and a page
// changed many times in between is copied once.
//
// The writer keeps a far larger automatic threshold (walBackstopPages) as
// a backstop, so the log stays bounded even if the checkpointer cannot run.
// It must stay well above what a second of heavy writing adds: at 1,000
// messages a second Parley writes ≈ 16,000 frames a second, and with the
// backstop at 16,000 the commit that crossed it ran the checkpoint itself
// about once a second, holding the one writer for 20–130 ms while
// acknowledgements waited (p99 of acknowledgements at 1,000 messages/s with
// a slow Send API: 50–59 ms, then 43 ms at 64,000).
const (
	checkpointEvery  = time.Second
	walBackstopPages = 64000 // ≈ 256 MB of log at 4 KiB pages, reached only if checkpoints stall
)

// checkpointer runs PASSIVE checkpoints on conn until stop is closed.
type checkpointer struct {
	conn *sql.DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
	runs atomic.Int64 // checkpoints run, for tests
}

func startCheckpointer(conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	seen := int64(-1)
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if err := c.checkpoint(&seen); err != nil {
			// The writer's backstop threshold still bounds the log.
			slog.Warn("db: background checkpoint failed", "err", err)
		}
	}
}

// checkpoint runs one PASSIVE checkpoint, unless nothing was committed
// since the last one: data_version (of this connection, which never
// writes) changes only when another connection commits. Running one
// regardless cost readers dearly while nothing was written — most likely
// reading connections that met it waited in SQLite's busy handler — and
// the 2-million-contact search benchmark went from 13 to 400 ms at p99.
func (c *checkpointer) checkpoint(seen *int64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var version int64
	if err := c.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&version); err != nil {
		return err
	}
	if version == *seen {
		return nil
	}
	var busy, logged, copied int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &copied); err != nil {
		return err
	}
	*seen = version
	c.runs.Add(1)
	return nil
}

// close stops the checkpointer and closes its connection; DB.Close may
// be called more than once.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}
