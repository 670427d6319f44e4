package trigger

// automaton is an Aho–Corasick automaton over the bytes of the normalized
// keywords, exclusion words and regular-expression gates: one pass over a
// text reports every occurrence of every pattern, so the cost of matching
// grows with the text and the hits, not with the number of rules.
//
// It works on UTF-8 bytes. Because UTF-8 is self-synchronising, a valid
// pattern can only occur in valid text at rune boundaries, so no hit ever
// starts or ends inside a rune; the cluster and word checks then run on
// the (few) hits only.
//
// Layout, for locality (a step touches one state and its edges, which sit
// together): each state keeps its outgoing edges as a run of a.edges (most
// states have one, so a linear scan is fastest), its failure link, the
// pattern ending exactly there (or -1), and a dictionary link to the
// nearest state on its failure chain where a pattern ends (0 for none).
// The root and every state with denseEdges or more edges (the states after
// the first bytes of a script's characters, which branch to every letter
// of it) instead get a dense row of 256 transitions with failure links
// already followed: one load per byte.
type automaton struct {
	states []acState
	edges  []acEdge
	dense  []int32 // rows of 256
}

type acState struct {
	first int32 // first edge in edges
	n     int32 // edge count; -1-row when the state has a dense row
	fail  int32
	out   int32
	dict  int32
	to0   int32 // the first edge again, in the state's own cache line
	b0    byte
}

type acEdge struct {
	b  byte
	to int32
}

// denseEdges is the edge count from which a state gets a dense row: below
// it a scan is as fast, and 1 KiB per state would be wasted.
const denseEdges = 4

// buildAutomaton builds the automaton of patterns, which must be non-empty;
// pattern i is reported as i.
func buildAutomaton(patterns []string) *automaton {
	// A trie with per-state edge lists first, flattened once built.
	trie := [][]acEdge{nil}
	out := []int32{-1}
	for id, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			next := int32(-1)
			for _, e := range trie[s] {
				if e.b == p[i] {
					next = e.to
					break
				}
			}
			if next < 0 {
				next = int32(len(trie))
				trie = append(trie, nil)
				out = append(out, -1)
				trie[s] = append(trie[s], acEdge{p[i], next})
			}
			s = next
		}
		out[s] = int32(id)
	}

	a := &automaton{states: make([]acState, len(trie))}
	for s, es := range trie {
		a.states[s] = acState{first: int32(len(a.edges)), n: int32(len(es)), out: out[s]}
		if len(es) > 0 {
			a.states[s].b0, a.states[s].to0 = es[0].b, es[0].to
		}
		a.edges = append(a.edges, es...)
	}
	// The root's row: its own edges, else itself.
	a.dense = make([]int32, 256)
	for _, e := range trie[0] {
		a.dense[e.b] = e.to
	}
	a.states[0].n = -1

	// Breadth-first failure and dictionary links: a state's failure is
	// the longest proper suffix of its string that is also in the trie.
	order := make([]int32, 0, len(trie))
	for _, e := range trie[0] {
		order = append(order, e.to) // depth 1 fails to the root
	}
	for i := 0; i < len(order); i++ {
		s := order[i]
		for _, e := range trie[s] {
			f := a.step(a.states[s].fail, e.b)
			st := &a.states[e.to]
			st.fail = f
			if a.states[f].out >= 0 {
				st.dict = f
			} else {
				st.dict = a.states[f].dict
			}
			order = append(order, e.to)
		}
	}
	// Dense rows in breadth-first order, so the rows that step consults
	// while filling one (shallower states) are already final.
	for _, s := range order {
		if len(trie[s]) < denseEdges {
			continue
		}
		row := make([]int32, 256)
		for c := range row {
			row[c] = a.step(a.states[s].fail, byte(c))
		}
		for _, e := range trie[s] {
			row[e.b] = e.to
		}
		a.states[s].n = -1 - int32(len(a.dense)/256)
		a.dense = append(a.dense, row...)
	}
	return a
}

// step follows byte c from state s, through failure links as needed.
func (a *automaton) step(s int32, c byte) int32 {
	for {
		st := &a.states[s]
		if st.n < 0 {
			return a.dense[int(-1-st.n)<<8|int(c)]
		}
		if st.n > 0 && st.b0 == c {
			return st.to0
		}
		for k, end := st.first+1, st.first+st.n; k < end; k++ {
			if a.edges[k].b == c {
				return a.edges[k].to
			}
		}
		s = st.fail
	}
}

// scan calls hit(pattern, end) for every occurrence in t, end being the
// byte offset just past it, in order of end.
func (a *automaton) scan(t string, hit func(p int32, end int)) {
	s := int32(0)
	for i := 0; i < len(t); i++ {
		s = a.step(s, t[i])
		h := s
		if a.states[h].out < 0 {
			h = a.states[h].dict
		}
		for h != 0 {
			hit(a.states[h].out, i+1)
			h = a.states[h].dict
		}
	}
}
