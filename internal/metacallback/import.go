package metacallback

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/validate"
)

// MaxImport bounds one ImportASIDs call.
const MaxImport = 1000

// ImportASIDs opens a deletion request for each app-scoped ID of a list
// Meta sent by e-mail (H-7; the callback is not Meta's only path, and not
// a reliable one), with the same effects as the callback: one request per
// person (IDs repeated in the list, or with a request still open, get that
// request), each audit-logged with the operator as actor. The list is
// checked whole first: any malformed ID refuses it all with a
// *validate.Error naming it, and nothing is opened. The returned requests
// carry their confirmation codes, in the order of the first occurrence of
// each ID.
func (s *Service) ImportASIDs(ctx context.Context, a audit.Actor, asids []string) ([]Request, error) {
	var ids []string
	seen := map[string]bool{}
	for i, raw := range asids {
		id := strings.TrimSpace(raw)
		if id == "" {
			continue
		}
		if !validASID(id) {
			return nil, validate.Field("asids", fmt.Sprintf("Line %d is not an app-scoped user ID (digits only).", i+1))
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, validate.Field("asids", "Enter at least one app-scoped user ID.")
	}
	if len(ids) > MaxImport {
		return nil, validate.Field("asids", fmt.Sprintf("Import at most %d IDs at a time.", MaxImport))
	}
	out := make([]Request, 0, len(ids))
	for _, id := range ids {
		r, err := s.Open(ctx, a, id, SourceImport)
		if err != nil {
			return out, fmt.Errorf("metacallback: import: %w", err)
		}
		out = append(out, r)
	}
	s.opt.Queue.Notify()
	return out, nil
}
