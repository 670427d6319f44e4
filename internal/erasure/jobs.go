package erasure

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
)

// deleteJobs deletes, in tx, the workspace's jobs that name any of ids:
// in their payload (any JSON string value: the inbox's {"ws","id"}, the
// flow runner's {"ws","conv"} …), their ordering key or their unique key
// (split on ':', as in "profile:<contact>"). Pending, waiting and dead
// jobs alike: a dead job's payload is as personal as a pending one's. A
// running job's worker finds its row gone when it finishes, as when an
// operator deletes a job, and what it acts on is gone too.
//
// Candidates are the jobs whose payload contains the workspace ID, which
// every job about a workspace's data carries; they are then decoded, not
// pattern-matched, so one ID that happens to prefix another is no match.
func deleteJobs(ctx context.Context, tx bun.Tx, dialect db.Dialect, workspaceID string, ids map[string]bool) error {
	contains := `instr(payload, ?) > 0`
	if dialect == db.Postgres {
		contains = `position(convert_to(?, 'UTF8') in payload) > 0`
	}
	var rows []struct {
		ID       int64   `bun:"id"`
		Payload  []byte  `bun:"payload"`
		Ordering *string `bun:"ordering_key"`
		Unique   *string `bun:"unique_key"`
	}
	if err := tx.NewRaw(`SELECT id, payload, ordering_key, unique_key FROM jobs WHERE `+contains, workspaceID).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	var doomed []int64
	for _, r := range rows {
		if payloadNames(r.Payload, ids) || keyNames(r.Ordering, ids) || keyNames(r.Unique, ids) {
			doomed = append(doomed, r.ID)
		}
	}
	for len(doomed) > 0 {
		n := min(len(doomed), 500)
		if _, err := tx.NewRaw(`DELETE FROM jobs WHERE id IN (?)`, bun.In(doomed[:n])).Exec(ctx); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		doomed = doomed[n:]
	}
	return nil
}

// payloadNames reports whether a JSON payload holds one of ids as a string
// value anywhere; a payload that is not JSON names them if it contains
// one of them at all.
func payloadNames(payload []byte, ids map[string]bool) bool {
	var v any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		for id := range ids {
			if bytes.Contains(payload, []byte(id)) {
				return true
			}
		}
		return false
	}
	return valueNames(v, ids)
}

// valueNames walks a decoded JSON value.
func valueNames(v any, ids map[string]bool) bool {
	switch x := v.(type) {
	case string:
		return ids[x]
	case []any:
		for _, e := range x {
			if valueNames(e, ids) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if valueNames(e, ids) {
				return true
			}
		}
	}
	return false
}

// keyNames reports whether a job key, or one of its ':'-separated parts,
// is one of ids.
func keyNames(key *string, ids map[string]bool) bool {
	if key == nil {
		return false
	}
	for _, part := range strings.Split(*key, ":") {
		if ids[part] {
			return true
		}
	}
	return ids[*key]
}
