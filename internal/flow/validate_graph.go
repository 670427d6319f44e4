package flow

import "slices"

// graph checks the edges: every target exists, every node can be reached
// from the start, and no loop runs without waiting for the contact.
func (v *validator) graph() {
	nodes := v.doc.Nodes
	// out[i] are the indexes of the nodes node i links to without waiting.
	out := make([][]int, len(nodes))
	all := make([][]int, len(nodes))
	for i, n := range nodes {
		if !n.hasBody() || v.ids[n.ID] != i {
			continue // no body, or a duplicate ID: reported already
		}
		for _, e := range n.Body.Edges() {
			j, ok := v.ids[e.To]
			if !ok {
				v.nodeErr(n, e.Field, "jumps to “%s”, which does not exist.", e.To)
				continue
			}
			all[i] = append(all[i], j)
			if !e.Waits {
				out[i] = append(out[i], j)
			}
		}
	}
	if start, ok := v.ids[v.doc.Start]; ok {
		seen := make([]bool, len(nodes))
		seen[start] = true
		queue := []int{start}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, j := range all[i] {
				if !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
		for i, n := range nodes {
			if !seen[i] && v.ids[n.ID] == i {
				v.nodeWarn(n, "", "can never be reached from the start node.")
			}
		}
	}
	for _, scc := range loops(out) {
		labels := make([]string, 0, len(scc))
		for k, i := range scc {
			if k == 6 {
				labels = append(labels, "others")
				break
			}
			labels = append(labels, nodes[i].label())
		}
		first := nodes[scc[0]]
		if len(scc) == 1 {
			v.nodeErr(first, "", "jumps back to itself without waiting for the contact, so it would run forever. Put a question or a delay in the loop.")
			continue
		}
		v.add(SeverityError, first.ID, "", "", "Nodes %s form a loop that never waits for the contact, so it would run forever. Put a question or a delay in the loop.", listLabels(labels))
	}
}

// loops returns the strongly connected components of the graph that
// contain a cycle (more than one node, or one node linked to itself),
// each as node indexes in ascending order, ordered by their first node.
// It is Tarjan's algorithm; recursion depth is bounded by MaxNodes.
func loops(out [][]int) [][]int {
	n := len(out)
	idx := make([]int, n)
	low := make([]int, n)
	on := make([]bool, n)
	for i := range idx {
		idx[i] = -1
	}
	var (
		stack  []int
		next   int
		result [][]int
	)
	var visit func(int)
	visit = func(i int) {
		idx[i], low[i] = next, next
		next++
		stack = append(stack, i)
		on[i] = true
		for _, j := range out[i] {
			switch {
			case idx[j] < 0:
				visit(j)
				low[i] = min(low[i], low[j])
			case on[j]:
				low[i] = min(low[i], idx[j])
			}
		}
		if low[i] != idx[i] {
			return
		}
		var scc []int
		for {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			on[j] = false
			scc = append(scc, j)
			if j == i {
				break
			}
		}
		if len(scc) > 1 || slices.Contains(out[i], i) {
			result = append(result, scc)
		}
	}
	for i := range n {
		if idx[i] < 0 {
			visit(i)
		}
	}
	for _, scc := range result {
		slices.Sort(scc)
	}
	slices.SortFunc(result, func(a, b []int) int { return a[0] - b[0] })
	return result
}
