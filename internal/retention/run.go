package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/job"
)

// Kind is the job kind of a retention run; the app registers Handle for
// it and schedules it with job.Queue.Periodic every Every.
const Kind = "retention.run"

// Every is how often the run is scheduled: hourly, so a row outlives its
// period by at most about an hour plus the run's own length.
const Every = time.Hour

// Report counts what one run deleted, per class.
type Report struct {
	// Workspaces is how many workspaces the run visited.
	Workspaces int
	// Deleted counts rows of workspaces; Platform rows of no workspace.
	Deleted  map[Class]int
	Platform map[Class]int
}

func (r *Report) total() int {
	n := 0
	for _, v := range r.Deleted {
		n += v
	}
	for _, v := range r.Platform {
		n += v
	}
	return n
}

// Handle is the job handler of Kind.
func (s *Service) Handle(ctx context.Context, _ *job.Job) error {
	_, err := s.Run(ctx)
	return err
}

// workspacePage is how many workspace IDs a run reads at a time.
const workspacePage = 100

// Run deletes everything whose retention period has passed: the platform's
// rows, then each workspace's, class by class, in batches. It writes one
// audit entry per workspace where it deleted something (the counts, for
// the workspace's owners) and one platform entry for the run (N-6), also
// when the run stops early (marked stopped). A stopped run loses nothing:
// the next one continues with what is left (N-4).
func (s *Service) Run(ctx context.Context) (Report, error) {
	now := s.now()
	rep := Report{Deleted: map[Class]int{}, Platform: map[Class]int{}}
	err := s.run(ctx, now, &rep)
	details := map[string]any{"workspaces": rep.Workspaces, "deleted": rep.Deleted, "platform": rep.Platform}
	if err != nil {
		details["stopped"] = true
	}
	// Recorded even when ctx ended: the entry says the run happened and
	// how far it got.
	if aerr := audit.Record(context.WithoutCancel(ctx), s.d.W, s.now(), "", audit.Actor{}, "retention.run", "", "", details); aerr != nil {
		err = errors.Join(err, aerr)
	}
	if err != nil {
		return rep, fmt.Errorf("retention: run: %w", err)
	}
	s.opt.Log.Info("retention run", "workspaces", rep.Workspaces, "deleted", rep.total())
	return rep, nil
}

func (s *Service) run(ctx context.Context, now time.Time, rep *Report) error {
	for _, p := range s.platformPurges() {
		l, _ := LimitOf(p.class)
		n, err := s.drain(ctx, Batch{Class: p.class, Table: p.table}, func(ctx context.Context, limit int) (int, error) {
			return p.purge(ctx, Cutoff(now, l.Platform()), limit)
		})
		add(rep.Platform, p.class, n)
		if err != nil {
			return err
		}
	}
	after := ""
	for {
		var ids []string
		if err := s.d.R.NewRaw(`SELECT id FROM workspaces WHERE id > ? ORDER BY id LIMIT ?`, after, workspacePage).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("workspaces: %w", err)
		}
		for _, ws := range ids {
			rep.Workspaces++
			counts, err := s.runWorkspace(ctx, now, ws)
			for c, n := range counts {
				rep.Deleted[c] += n
			}
			if len(counts) > 0 {
				if aerr := audit.Record(context.WithoutCancel(ctx), s.d.W, s.now(), ws, audit.Actor{}, "retention.purged", "workspace", ws, map[string]any{"deleted": counts}); aerr != nil {
					return errors.Join(err, aerr)
				}
			}
			if err != nil {
				return fmt.Errorf("workspace %s: %w", ws, err)
			}
		}
		if len(ids) < workspacePage {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// runWorkspace applies the workspace's periods; counts holds the classes
// it deleted rows of.
func (s *Service) runWorkspace(ctx context.Context, now time.Time, ws string) (map[Class]int, error) {
	counts := map[Class]int{}
	set, err := s.settings(ctx, s.d.R, ws)
	if err != nil {
		return counts, err
	}
	if set.Hold != nil {
		return counts, nil // N-7: a workspace on hold loses nothing
	}
	own := s.workspacePurges()
	for _, st := range set.Classes {
		if st.Days == Lifetime {
			continue
		}
		before := Cutoff(now, st.Days)
		for _, p := range own[st.Class] {
			n, err := s.drain(ctx, Batch{Class: st.Class, Table: p.table, WorkspaceID: ws}, func(ctx context.Context, limit int) (int, error) {
				return p.purge(ctx, ws, before, limit)
			})
			add(counts, st.Class, n)
			if err != nil {
				return counts, err
			}
		}
		for _, p := range s.registered(st.Class) {
			n, err := s.drain(ctx, Batch{Class: st.Class, Table: p.name, WorkspaceID: ws}, func(ctx context.Context, limit int) (int, error) {
				return p.p(ctx, ws, before, limit)
			})
			add(counts, st.Class, n)
			if err != nil {
				return counts, fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	return counts, nil
}

func add(m map[Class]int, c Class, n int) {
	if n > 0 {
		m[c] += n
	}
}

// drain runs step until it deletes less than a batch, yielding between
// batches. It returns the rows deleted, also when it stops on an error.
func (s *Service) drain(ctx context.Context, b Batch, step func(ctx context.Context, limit int) (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := step(ctx, s.opt.BatchSize)
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			return total, nil
		}
		b.Deleted, b.Limit = n, s.opt.BatchSize
		if err := s.between(ctx, b); err != nil {
			return total, err
		}
		if n < s.opt.BatchSize {
			return total, nil
		}
	}
}

// between yields the writer after a batch.
func (s *Service) between(ctx context.Context, b Batch) error {
	if s.opt.Between != nil {
		return s.opt.Between(ctx, b)
	}
	t := time.NewTimer(s.opt.Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
