package segment

import (
	"context"
	"fmt"
)

// Paging limits. A page of members is keyset-paged by contact ID; when a
// condition needs sealed values opened, a call scans a bounded number of
// candidates so that one request never opens a whole workspace.
const (
	// MaxPage caps n in Members.
	MaxPage = 1000
	// MaxScan caps the candidates one Members call opens values for.
	MaxScan = 5000
	// MaxCountScan caps the candidates Count opens values for; beyond it
	// the count is a lower bound (Count.Exact false).
	MaxCountScan = 50000
	// scanBatch is how many candidates one query fetches.
	scanBatch = 500
)

// Target is what to evaluate: a saved segment (SegmentID) or an unsaved
// definition (a preview while editing). Exactly one is set.
type Target struct {
	SegmentID  string
	Definition *Definition
}

// Page is one page of a segment's members.
type Page struct {
	// IDs are contact IDs in ascending order.
	IDs []string
	// NextCursor continues after this page; "" when the workspace's
	// contacts are exhausted. A page may hold fewer than n members (even
	// none) and still have a NextCursor, when conditions on sealed values
	// used up the call's scan budget.
	NextCursor string
}

// Count is the size of a segment.
type Count struct {
	N int
	// Exact is false when conditions on sealed values needed more than
	// MaxCountScan candidates opened: N is then the members among the
	// first MaxCountScan candidates, a lower bound.
	Exact bool
}

// plan compiles the target for the workspace.
func (s *Store) plan(ctx context.Context, workspaceID string, t Target) (*plan, error) {
	var def Definition
	switch {
	case t.Definition != nil && t.SegmentID == "":
		def = *t.Definition
	case t.Definition == nil && t.SegmentID != "":
		sg, err := s.get(ctx, s.d.R, workspaceID, t.SegmentID)
		if err != nil {
			return nil, err
		}
		def = sg.Definition
	default:
		return nil, fmt.Errorf("%w: give a segment or a definition", ErrInvalid)
	}
	return compile(ctx, s, workspaceID, def, s.now())
}

// candidate is a contact the SQL filter let through; hit says SQL alone
// decides it is a member (see plan.hit).
type candidate struct {
	id  string
	hit bool
}

func (s *Store) candidates(ctx context.Context, p *plan, workspaceID, after string, limit int) ([]candidate, error) {
	q, args := p.page(workspaceID, after, limit)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]candidate, 0, limit)
	for rows.Next() {
		var c candidate
		var hit int
		if err := rows.Scan(&c.id, &hit); err != nil {
			return nil, err
		}
		c.hit = hit == 1
		out = append(out, c)
	}
	return out, rows.Err()
}

// member decides a candidate, opening its field values only when the
// conditions on them matter.
func (s *Store) member(ctx context.Context, p *plan, workspaceID string, c candidate) (bool, error) {
	if p.sqlOnly() {
		return true, nil
	}
	if p.match == MatchAny && c.hit {
		return true, nil
	}
	if p.match == MatchAll && !c.hit {
		return false, nil
	}
	values, err := s.contacts.FieldValues(ctx, workspaceID, c.id)
	if err != nil {
		return false, err
	}
	for _, g := range p.goc {
		ok := g.holds(values)
		if p.match == MatchAny && ok {
			return true, nil
		}
		if p.match == MatchAll && !ok {
			return false, nil
		}
	}
	return p.match == MatchAll, nil
}

// scan walks candidates after the cursor, at most budget of them, until n
// members are found. It returns the members and the ID of the last
// candidate looked at, or "" when the candidates ran out.
func (s *Store) scan(ctx context.Context, p *plan, workspaceID, after string, n, budget int) ([]string, string, error) {
	out := []string{}
	scanned := 0
	for {
		batch := scanBatch
		if p.sqlOnly() {
			// Every candidate is a member: fetch exactly what is asked.
			batch = n - len(out)
		}
		batch = min(batch, budget-scanned)
		cands, err := s.candidates(ctx, p, workspaceID, after, batch)
		if err != nil {
			return nil, "", err
		}
		for _, c := range cands {
			after = c.id
			scanned++
			ok, err := s.member(ctx, p, workspaceID, c)
			if err != nil {
				return nil, "", err
			}
			if ok {
				out = append(out, c.id)
				if len(out) == n {
					return out, after, nil
				}
			}
		}
		if len(cands) < batch {
			return out, "", nil
		}
		if scanned >= budget {
			return out, after, nil
		}
	}
}

// Members returns up to n (at most MaxPage) of the target's members in the
// workspace whose ID is after cursor ("" from the start), in ID order.
// Another workspace's contacts never match: every query is scoped by
// workspace. A definition outside the closed language, an unknown tag or
// field, or an archived field gets ErrInvalid; an unknown segment
// db.ErrNotFound.
func (s *Store) Members(ctx context.Context, workspaceID string, t Target, cursor string, n int) (Page, error) {
	if n <= 0 || n > MaxPage {
		n = MaxPage
	}
	p, err := s.plan(ctx, workspaceID, t)
	if err != nil {
		return Page{}, fmt.Errorf("segment: members: %w", err)
	}
	budget := s.maxScan
	if p.sqlOnly() {
		budget = n
	}
	ids, next, err := s.scan(ctx, p, workspaceID, cursor, n, budget)
	if err != nil {
		return Page{}, fmt.Errorf("segment: members: %w", err)
	}
	return Page{IDs: ids, NextCursor: next}, nil
}

// Count returns how many of the workspace's contacts the target selects:
// one count(*) when SQL decides every condition, else a scan of at most
// MaxCountScan candidates (see Count.Exact).
func (s *Store) Count(ctx context.Context, workspaceID string, t Target) (Count, error) {
	p, err := s.plan(ctx, workspaceID, t)
	if err != nil {
		return Count{}, fmt.Errorf("segment: count: %w", err)
	}
	if p.sqlOnly() {
		q, args := p.count(workspaceID)
		var n int
		if err := s.d.R.DB.QueryRowContext(ctx, s.d.Rebind(q), args...).Scan(&n); err != nil {
			return Count{}, fmt.Errorf("segment: count: %w", err)
		}
		return Count{N: n, Exact: true}, nil
	}
	ids, next, err := s.scan(ctx, p, workspaceID, "", MaxCountScan+1, MaxCountScan)
	if err != nil {
		return Count{}, fmt.Errorf("segment: count: %w", err)
	}
	return Count{N: len(ids), Exact: next == ""}, nil
}
