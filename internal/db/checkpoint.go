package db

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
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
const (
	checkpointEvery  = time.Second
	walBackstopPages = 16000 // ≈ 64 MB of log at 4 KiB pages
)

// checkpointer runs PASSIVE checkpoints on conn until stop is closed.
type checkpointer struct {
	conn *sql.DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
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
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var busy, logged, copied int
		err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &copied)
		cancel()
		if err != nil {
			// The writer's backstop threshold still bounds the log.
			slog.Warn("db: background checkpoint failed", "err", err)
		}
	}
}

// close stops the checkpointer and closes its connection; DB.Close may
// be called more than once.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}
