package search

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of a query.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	// probeGrams is how many of a query's trigrams are looked up (spread
	// over the query); verification against the opened text covers the
	// rest.
	probeGrams = 8
	// scanCap bounds how many postings of the rarest gram one query walks
	// (newest first). A query whose every gram is that common and whose
	// conjunction is rare may miss older matches; Results.Partial says so.
	scanCap = 2000
	// verifySlack is how many candidates beyond the missing hits one round
	// of verification opens.
	verifySlack = 5
)

// QueryOptions bound and focus a query.
type QueryOptions struct {
	// Limit caps each kind of result (default 20, at most 100).
	Limit int
	// Contacts and Messages choose what to search; neither set means both.
	Contacts, Messages bool
}

// ContactHit is a contact whose name, phone or e-mail matches.
type ContactHit struct {
	ID   string
	Name string
}

// MessageHit is a message whose text matches, with a snippet of it.
type MessageHit struct {
	ID             string
	ConversationID string
	ContactID      string
	Snippet        string
	At             time.Time
}

// Results are the matches of one query, most recently indexed first.
type Results struct {
	Contacts []ContactHit
	Messages []MessageHit
	// Partial is set when the bounded scan stopped before it had seen every
	// candidate: there may be more (older) matches.
	Partial bool
}

// Search finds the workspace's contacts (by name, phone or e-mail) and
// messages (by text) containing query, normalized as Normalize says:
// anywhere in the text for three code points or more, at the start of a
// word for one or two. Every hit is verified against its opened text, so
// nothing is shown that does not match, and nothing of an erased contact
// can be (its documents are gone, and its key with them).
func (x *Index) Search(ctx context.Context, workspaceID, query string, opt QueryOptions) (Results, error) {
	if utf8.RuneCountInString(query) > MaxQueryRunes {
		return Results{}, fmt.Errorf("%w: longer than %d characters", ErrInvalid, MaxQueryRunes)
	}
	q := Normalize(query)
	if q == "" || workspaceID == "" {
		return Results{}, fmt.Errorf("%w: empty", ErrInvalid)
	}
	limit := opt.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if !opt.Contacts && !opt.Messages {
		opt.Contacts, opt.Messages = true, true
	}
	var res Results
	if opt.Contacts {
		cq := q
		if d, ok := phoneDigits(q); ok && d != q {
			cq = d // "+855 12 345" looks for the digits phones are indexed by
		}
		hits, partial, err := x.searchContacts(ctx, workspaceID, cq, limit)
		if err != nil {
			return Results{}, err
		}
		res.Contacts, res.Partial = hits, partial
	}
	if opt.Messages {
		hits, partial, err := x.searchMessages(ctx, workspaceID, q, limit)
		if err != nil {
			return Results{}, err
		}
		res.Messages, res.Partial = hits, res.Partial || partial
	}
	return res, nil
}

// candidate is a document the postings say may match.
type candidate struct {
	Doc       int64
	ContactID string
	MessageID string
}

func (x *Index) searchContacts(ctx context.Context, workspaceID, q string, limit int) ([]ContactHit, bool, error) {
	cands, partial, err := x.candidates(ctx, workspaceID, scopeContact, q, limit)
	if err != nil {
		return nil, false, err
	}
	var hits []ContactHit
	// Open in small rounds: each candidate costs a key unwrap, and most
	// candidates match, so the first round usually fills the page.
	for len(cands) > 0 && len(hits) < limit {
		round := cands[:min(len(cands), limit-len(hits)+verifySlack)]
		cands = cands[len(round):]
		ids := make([]string, len(round))
		for i, c := range round {
			ids[i] = c.ContactID
		}
		texts, err := x.opt.Contacts.Contacts(ctx, nil, workspaceID, ids)
		if err != nil {
			return nil, false, fmt.Errorf("search: open contacts: %w", err)
		}
		for _, c := range round {
			t, ok := texts[c.ContactID]
			if ok && contactMatches(t, q) && len(hits) < limit {
				hits = append(hits, ContactHit{ID: t.ID, Name: t.Name})
			}
		}
	}
	return hits, partial, nil
}

// contactMatches verifies a candidate contact against its opened fields.
func contactMatches(c ContactText, q string) bool {
	if matches(Normalize(c.Name), q) {
		return true
	}
	for _, e := range c.Emails {
		if matches(Normalize(e), q) {
			return true
		}
	}
	for _, p := range c.Phones {
		if d, ok := phoneDigits(p); ok && matches(d, q) {
			return true
		}
	}
	return false
}

func (x *Index) searchMessages(ctx context.Context, workspaceID, q string, limit int) ([]MessageHit, bool, error) {
	cands, partial, err := x.candidates(ctx, workspaceID, scopeMessage, q, limit)
	if err != nil {
		return nil, false, err
	}
	var hits []MessageHit
	for len(cands) > 0 && len(hits) < limit {
		round := cands[:min(len(cands), limit-len(hits)+verifySlack)]
		cands = cands[len(round):]
		ids := make([]string, len(round))
		for i, c := range round {
			ids[i] = c.MessageID
		}
		texts, err := x.opt.Messages.Messages(ctx, nil, workspaceID, ids)
		if err != nil {
			return nil, false, fmt.Errorf("search: open messages: %w", err)
		}
		for _, c := range round {
			m, ok := texts[c.MessageID]
			if !ok || len(hits) == limit {
				continue
			}
			if t := Normalize(m.Text); matches(t, q) {
				hits = append(hits, MessageHit{ID: m.ID, ConversationID: m.ConversationID, ContactID: m.ContactID,
					Snippet: snippet(m.Text, t, q), At: m.CreatedAt})
			}
		}
	}
	return hits, partial, nil
}

// candidates returns up to a few times limit documents of the workspace in
// scope having every probed gram of q, newest first. The plan: count the
// postings of up to probeGrams grams (each count capped), walk the rarest
// gram's postings newest first (at most scanCap of them), and keep the
// documents that also have each other probed gram (index probes on
// (doc, gram)), stopping at the LIMIT.
func (x *Index) candidates(ctx context.Context, workspaceID string, scope byte, q string, limit int) ([]candidate, bool, error) {
	ds, err := x.dg.digests(workspaceID, scope, spread(queryGrams(q), probeGrams))
	if err != nil {
		return nil, false, err
	}
	if len(ds) == 0 {
		return nil, false, nil
	}
	counts := make(map[int64]int, len(ds))
	if len(ds) > 1 {
		// Each count stops at the smallest so far: only the rarest gram's
		// count matters exactly, the others just have to be no smaller.
		capN := x.scanCap + 1 // beyond scanCap a gram is just "common"
		for _, d := range ds {
			var n int
			if err := x.d.R.NewRaw(`SELECT count(*) FROM (SELECT 1 FROM search_grams WHERE gram = ? LIMIT ?) t`,
				d, capN).Scan(ctx, &n); err != nil {
				return nil, false, fmt.Errorf("search: count: %w", err)
			}
			if n == 0 {
				return nil, false, nil // some gram is nowhere: nothing matches
			}
			counts[d] = n
			capN = min(capN, n)
		}
		sort.SliceStable(ds, func(i, j int) bool { return counts[ds[i]] < counts[ds[j]] })
	}
	// The walk's bound: the doc of the rarest gram's scanCap-th newest
	// posting. Walking newest first with no sort lets the engine stop at
	// the LIMIT as soon as enough documents have every gram.
	var floor int64
	if counts[ds[0]] > x.scanCap {
		if err := x.d.R.NewRaw(`SELECT doc FROM search_grams WHERE gram = ? ORDER BY doc DESC LIMIT 1 OFFSET ?`,
			ds[0], x.scanCap-1).Scan(ctx, &floor); err != nil {
			return nil, false, fmt.Errorf("search: bound: %w", err)
		}
	}
	want := min(3*limit+10, 400)
	var sb strings.Builder
	sb.WriteString(`SELECT d.id, d.contact_id, d.message_id FROM search_grams g0`)
	var args []any
	for i, d := range ds[1:] {
		fmt.Fprintf(&sb, ` JOIN search_grams g%d ON g%d.gram = ? AND g%d.doc = g0.doc`, i+1, i+1, i+1)
		args = append(args, d)
	}
	sb.WriteString(` JOIN search_docs d ON d.id = g0.doc WHERE g0.gram = ? AND g0.doc >= ? AND d.workspace_id = ? ORDER BY g0.doc DESC LIMIT ?`)
	args = append(args, ds[0], floor, workspaceID, want)
	var rows []struct {
		Doc       int64   `bun:"id"`
		ContactID string  `bun:"contact_id"`
		MessageID *string `bun:"message_id"`
	}
	if err := x.d.R.NewRaw(sb.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, false, fmt.Errorf("search: candidates: %w", err)
	}
	out := make([]candidate, len(rows))
	for i, r := range rows {
		out[i] = candidate{Doc: r.Doc, ContactID: r.ContactID}
		if r.MessageID != nil {
			out[i].MessageID = *r.MessageID
		}
	}
	// The driving gram had more postings than were walked: older documents
	// were not looked at. (A single gram needs no conjunction: its newest
	// postings are the newest matches.)
	partial := len(ds) > 1 && counts[ds[0]] > x.scanCap
	return out, partial, nil
}

// spread picks at most n of gs, evenly spaced and always including the
// first and last: enough to make the candidates few.
func spread(gs []gram, n int) []gram {
	if len(gs) <= n {
		return gs
	}
	out := make([]gram, 0, n)
	for i := range n {
		out = append(out, gs[i*(len(gs)-1)/(n-1)])
	}
	return out
}

// snippet cuts about 80 code points of text around the match of q in its
// normalized form t. Normalization keeps code point counts close (it only
// drops Latin diacritics and folds case), so the position is mapped by
// proportion; a snippet is a hint, not a quote.
func snippet(text, t, q string) string {
	const width = 80
	rs := []rune(text)
	if len(rs) <= width {
		return text
	}
	pos := 0
	if i := strings.Index(t, q); i >= 0 {
		tn := utf8.RuneCountInString(t)
		if tn > 0 {
			pos = utf8.RuneCountInString(t[:i]) * len(rs) / tn
		}
	}
	start := max(0, min(pos-width/3, len(rs)-width))
	s := string(rs[start : start+width])
	if start > 0 {
		s = "…" + s
	}
	if start+width < len(rs) {
		s += "…"
	}
	return s
}
