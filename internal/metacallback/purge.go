package metacallback

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/job"
)

// KindPurge is the periodic job that deletes old completed requests.
const KindPurge = "metacallback.purge"

// RequestRetention is how long a completed deletion request stays
// answerable on the status page: a year, like the audit log, which keeps
// the pseudonymous record of what it did after the row is gone.
const RequestRetention = 365 * 24 * time.Hour

// PurgeRequests deletes the requests completed before before and returns
// how many. Open requests are never purged.
func (s *Service) PurgeRequests(ctx context.Context, before time.Time) (int, error) {
	res, err := s.d.W.NewRaw(`DELETE FROM meta_deletion_requests WHERE state = 'completed' AND completed_at < ?`, before.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("metacallback: purge requests: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("metacallback: purge requests: %w", err)
	}
	return int(n), nil
}

func (s *Service) runPurge(ctx context.Context, _ *job.Job) error {
	_, err := s.PurgeRequests(ctx, s.opt.Now().Add(-RequestRetention))
	return err
}
