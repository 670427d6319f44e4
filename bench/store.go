package main

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/db"
)

// store reads Parley's SQLite database from outside its process (WAL lets
// another process read while Parley writes). The benchmark uses it to wait
// until Parley has finished the work a scenario gave it, and, once Parley
// has stopped, to check that nothing acknowledged was lost. It only reads.
type store struct{ d *db.DB }

func openStore(ctx context.Context, dataDir string) (*store, error) {
	d, err := db.Open(ctx, "", dataDir, db.Options{ReadConns: 2})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &store{d: d}, nil
}

func (s *store) Close() error { return s.d.Close() }

// backlog is the work Parley still has: stored deliveries not yet
// processed, and jobs (processing, sends, profile fetches) not yet done.
// Dead jobs are not work; dead counts them.
func (s *store) backlog(ctx context.Context) (int, error) {
	var n int
	err := s.d.R.NewRaw(`SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending')
		+ (SELECT count(*) FROM jobs WHERE state <> 'dead')`).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("store: backlog: %w", err)
	}
	return n, nil
}

// dead counts dead-lettered jobs: work Parley gave up on.
func (s *store) dead(ctx context.Context) (int, error) {
	var n int
	if err := s.d.R.NewRaw(`SELECT count(*) FROM jobs WHERE state = 'dead'`).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("store: dead jobs: %w", err)
	}
	return n, nil
}

// waitDrained polls until the backlog is empty, for at most limit.
func (s *store) waitDrained(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := s.backlog(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("store: %d deliveries and jobs still pending after %s", n, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inbound counts the stored inbound messages by platform message ID.
func (s *store) inbound(ctx context.Context) (map[string]int, error) {
	var mids []string
	if err := s.d.R.NewRaw(`SELECT external_id FROM messages WHERE direction = 'in' AND external_id IS NOT NULL`).Scan(ctx, &mids); err != nil {
		return nil, fmt.Errorf("store: inbound messages: %w", err)
	}
	n := make(map[string]int, len(mids))
	for _, m := range mids {
		n[m]++
	}
	return n, nil
}
