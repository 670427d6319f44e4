package workspace

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The purge deletes a table's rows before those of every table it
// references, whatever order the schema lists them in; self-references do
// not block a table; a cycle still yields every table once.
func TestChildrenFirst(t *testing.T) {
	names := func(ts []purgeTable) []string {
		out := []string{}
		for _, t := range ts {
			out = append(out, t.name)
		}
		return out
	}
	tables := func(ns ...string) []purgeTable {
		out := []purgeTable{}
		for _, n := range ns {
			out = append(out, purgeTable{name: n})
		}
		return out
	}
	cases := []struct {
		name   string
		tables []purgeTable
		edges  [][2]string
		want   []string
	}{
		{"no references", tables("b", "a"), nil, []string{"a", "b"}},
		{"chain", tables("contacts", "messages", "conversations"),
			[][2]string{{"messages", "conversations"}, {"conversations", "contacts"}, {"contacts", "workspaces"}},
			[]string{"messages", "conversations", "contacts"}},
		{"self reference", tables("flows", "flow_versions"),
			[][2]string{{"flows", "flows"}, {"flow_versions", "flows"}},
			[]string{"flow_versions", "flows"}},
		{"cycle", tables("a", "b", "c"),
			[][2]string{{"a", "b"}, {"b", "a"}, {"c", "a"}},
			[]string{"c", "a", "b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, names(childrenFirst(c.tables, c.edges))); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}
