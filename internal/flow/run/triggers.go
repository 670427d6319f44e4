package run

import (
	"context"
	"fmt"
	"sync"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/flow/trigger"
)

// Rules converts a flow's triggers to the matcher's rules. Triggers
// whose cooldown cannot be read get none (validation refuses them).
func Rules(flowID, flowName string, ts []flow.Trigger) []trigger.Rule {
	out := make([]trigger.Rule, 0, len(ts))
	for _, t := range ts {
		cd, _ := t.Cooldown.Value()
		out = append(out, trigger.Rule{
			ID: t.ID, FlowID: flowID, FlowName: flowName, Priority: t.Priority,
			Kind: trigger.Kind(t.Type), Mode: trigger.Mode(t.Mode), Keywords: t.Keywords, Exclude: t.Exclude,
			Channels: t.Channels, PostIDs: t.PostIDs, Payload: t.Payload, Ref: t.Ref, Cooldown: cd,
		})
	}
	return out
}

// live is what a workspace has published, compiled: its matcher and its
// live versions by flow (without their documents), as of a revision.
type live struct {
	rev     int64
	matcher *trigger.Matcher // nil when no published flow has a trigger
	flows   map[string]flow.Published
}

// published returns the workspace's live flows and their matcher, from
// the cache while the workspace's revision is still rev (the caller read
// it), else read through idb and compiled afresh. Cache entries are per
// workspace, so nothing of one workspace is ever served to another.
func (r *Runner) published(ctx context.Context, idb bun.IDB, ws string, rev int64) (*live, error) {
	if l, ok := r.lives.get(ws); ok && l.rev == rev {
		return l, nil
	}
	pubs, rev, err := r.opt.Flows.Published(ctx, idb, ws)
	if err != nil {
		return nil, err
	}
	l := &live{rev: rev, flows: make(map[string]flow.Published, len(pubs))}
	var rules []trigger.Rule
	for _, p := range pubs {
		rules = append(rules, Rules(p.FlowID, p.Name, p.Doc.Triggers)...)
		// Only the rules and the live version numbers stay in memory:
		// documents come from the program cache when a flow runs, so a
		// workspace with many large flows does not pin them all.
		p.Doc = flow.Document{}
		l.flows[p.FlowID] = p
	}
	if len(rules) > 0 {
		// Problems were shown when each flow was published; a rule that
		// cannot work is left out and the rest still match.
		m, _, err := trigger.Compile(rules, trigger.Options{})
		if err != nil {
			return nil, fmt.Errorf("compile triggers: %w", err)
		}
		l.matcher = m
	}
	r.lives.put(ws, l)
	return l, nil
}

// program returns the compiled version v of the workspace's flow,
// compiling and caching it on first use (versions never change).
func (r *Runner) program(ctx context.Context, idb bun.IDB, ws, flowID string, v int) (*Program, error) {
	k := progKey{ws: ws, flow: flowID, version: v}
	if p, ok := r.progs.get(k); ok {
		return p, nil
	}
	doc, err := r.opt.Flows.Version(ctx, idb, ws, flowID, v)
	if err != nil {
		return nil, err
	}
	p := Compile(flowID, v, doc)
	r.progs.put(k, p)
	return p, nil
}

// progKey names a compiled version; the workspace is part of it so that a
// flow ID from one workspace never finds another's program.
type progKey struct {
	ws, flow string
	version  int
}

// cache is a small map bounded by size: when full, an arbitrary entry
// makes room. Entries are immutable values, so a stale or evicted one
// costs a recompile, never a wrong answer.
type cache[K comparable, V any] struct {
	mu  sync.Mutex
	m   map[K]V
	max int
}

func newCache[K comparable, V any](max int) *cache[K, V] {
	return &cache[K, V]{m: make(map[K]V), max: max}
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *cache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
}
