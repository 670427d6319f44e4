package run

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// NodeStats counts what sessions did at one node of one version.
type NodeStats struct {
	// Entered counts the times a session reached the node.
	Entered int64 `json:"entered"`
	// Completed counts the times the node did its work and led on.
	Completed int64 `json:"completed"`
	// Dropped counts the sessions that stopped at the node: a question
	// unanswered or answered wrong too often, a delay or request left for
	// another flow, a person taking over.
	Dropped int64 `json:"dropped"`
}

// FlowError is a problem a run of a flow met, as the author sees it.
type FlowError struct {
	Version int       `json:"version"`
	NodeID  string    `json:"node_id,omitempty"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// statShards splits each node's counters over this many rows, by
// conversation, so that concurrent conversations of one busy flow rarely
// wait for each other's row lock.
const statShards = 16

// keepErrors is how many errors are kept per flow: the latest.
const keepErrors = 100

// writeStats adds a turn's node events to flow_node_stats, one statement
// for all the nodes, in a fixed order (so that two transactions never
// lock the same rows in opposite orders).
func (r *Runner) writeStats(ctx context.Context, tx bun.Tx, ws, conv string, stats map[statKey]*NodeStats) error {
	if len(stats) == 0 {
		return nil
	}
	keys := make([]statKey, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b statKey) int {
		if c := strings.Compare(a.flow, b.flow); c != 0 {
			return c
		}
		if a.version != b.version {
			return a.version - b.version
		}
		return strings.Compare(a.node, b.node)
	})
	h := fnv.New32a()
	h.Write([]byte(conv))
	shard := int(h.Sum32() % statShards)
	args := make([]any, 0, len(keys)*8)
	for _, k := range keys {
		s := stats[k]
		args = append(args, ws, k.flow, k.version, k.node, shard, s.Entered, s.Completed, s.Dropped)
	}
	if _, err := r.st.Exec(ctx, tx, statsSQL(len(keys)), args...); err != nil {
		return fmt.Errorf("count node events: %w", err)
	}
	return nil
}

// preparedStatRows is how many nodes' rows the prepared statements of
// writeStats take at most: a turn seldom touches more (the rest run
// through bun).
const preparedStatRows = 4

// statsSQL is the statement adding n nodes' events to flow_node_stats.
func statsSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO flow_node_stats (workspace_id, flow_id, version, node_id, shard, entered, completed, dropped) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
	}
	q.WriteString(` ON CONFLICT (workspace_id, flow_id, version, node_id, shard) DO UPDATE SET
		entered = flow_node_stats.entered + excluded.entered,
		completed = flow_node_stats.completed + excluded.completed,
		dropped = flow_node_stats.dropped + excluded.dropped`)
	return q.String()
}

// writeProblems records a turn's problems in flow_errors, keeping the
// latest keepErrors per flow, and logs them (IDs only).
func (r *Runner) writeProblems(ctx context.Context, tx bun.Tx, ws string, ps []flowProblem, now time.Time) error {
	flows := map[string]bool{}
	for _, p := range ps {
		if p.flow == "" || p.version == 0 {
			continue
		}
		r.log.Info("flow problem", "workspace", ws, "flow", p.flow, "version", p.version, "node", p.Node, "fatal", p.Fatal)
		if _, err := tx.NewRaw(`INSERT INTO flow_errors (id, workspace_id, flow_id, version, node_id, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			uuid.Must(uuid.NewV7()).String(), ws, p.flow, p.version, p.Node, p.Message, now).Exec(ctx); err != nil {
			return fmt.Errorf("record flow error: %w", err)
		}
		flows[p.flow] = true
	}
	for f := range flows {
		if _, err := tx.NewRaw(`DELETE FROM flow_errors WHERE workspace_id = ? AND flow_id = ? AND id < (
			SELECT id FROM flow_errors WHERE workspace_id = ? AND flow_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
			ws, f, ws, f, keepErrors-1).Exec(ctx); err != nil {
			return fmt.Errorf("prune flow errors: %w", err)
		}
	}
	return nil
}

// Stats returns the node statistics of version of the workspace's flow,
// by node ID, reading through idb. Nodes no session reached are absent.
func Stats(ctx context.Context, idb bun.IDB, ws, flowID string, version int) (map[string]NodeStats, error) {
	var rows []struct {
		NodeID    string `bun:"node_id"`
		Entered   int64  `bun:"entered"`
		Completed int64  `bun:"completed"`
		Dropped   int64  `bun:"dropped"`
	}
	if err := idb.NewRaw(`SELECT node_id, SUM(entered) AS entered, SUM(completed) AS completed, SUM(dropped) AS dropped
		FROM flow_node_stats WHERE workspace_id = ? AND flow_id = ? AND version = ? GROUP BY node_id`,
		ws, flowID, version).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("flow: stats: %w", err)
	}
	out := make(map[string]NodeStats, len(rows))
	for _, r := range rows {
		out[r.NodeID] = NodeStats{Entered: r.Entered, Completed: r.Completed, Dropped: r.Dropped}
	}
	return out, nil
}

// Errors returns the latest problems runs of the workspace's flow met,
// newest first, reading through idb; version 0 means every version.
func Errors(ctx context.Context, idb bun.IDB, ws, flowID string, version int) ([]FlowError, error) {
	q := `SELECT version, node_id, message, at FROM flow_errors WHERE workspace_id = ? AND flow_id = ?`
	args := []any{ws, flowID}
	if version > 0 {
		q += ` AND version = ?`
		args = append(args, version)
	}
	var rows []struct {
		Version int       `bun:"version"`
		NodeID  string    `bun:"node_id"`
		Message string    `bun:"message"`
		At      time.Time `bun:"at"`
	}
	if err := idb.NewRaw(q+` ORDER BY id DESC LIMIT ?`, append(args, keepErrors)...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("flow: errors: %w", err)
	}
	out := make([]FlowError, len(rows))
	for i, r := range rows {
		out[i] = FlowError{Version: r.Version, NodeID: r.NodeID, Message: r.Message, At: r.At.UTC()}
	}
	return out, nil
}
