package web

import (
	"slices"
	"testing"

	"github.com/parleyhq/parley/internal/workspace"
)

func TestCommonZonesAreListed(t *testing.T) {
	all := workspace.TimeZones()
	for _, z := range commonZones() {
		if !slices.Contains(all, z) {
			t.Errorf("common zone %q is not in workspace.TimeZones", z)
		}
	}
}

// The current zone is selected once, in its first place; one not on the
// list is shown first, on its own, so it is neither hidden nor replaced.
func TestZoneChoices(t *testing.T) {
	z := newZoneList()
	selected := func(gs []zoneGroup) []string {
		var out []string
		for _, g := range gs {
			for _, o := range g.Zones {
				if o.Selected {
					out = append(out, g.Label+":"+o.Name)
				}
			}
		}
		return out
	}
	for _, tc := range []struct {
		current string
		groups  int
		want    []string
	}{
		{"Asia/Phnom_Penh", 2, []string{"Common:Asia/Phnom_Penh"}},
		{"Pacific/Fiji", 2, []string{"All time zones:Pacific/Fiji"}},
		{"US/Eastern", 3, []string{"Current:US/Eastern"}},
		{"", 2, nil},
	} {
		gs := z.choices(tc.current)
		if len(gs) != tc.groups || !slices.Equal(selected(gs), tc.want) {
			t.Errorf("choices(%q): %d groups, selected %v; want %d, %v", tc.current, len(gs), selected(gs), tc.groups, tc.want)
		}
	}
	if got := zoneLabel("America/Argentina/Buenos_Aires"); got != "America/Argentina/Buenos Aires" {
		t.Errorf("label %q", got)
	}
}
