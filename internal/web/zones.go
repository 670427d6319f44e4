package web

import (
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/workspace"
)

// commonZones are offered first on the settings page: the zones of the
// places most businesses on Parley are likely to be in, so most people
// need not scroll through all four hundred. Every one is also in the full
// list (TestCommonZonesAreListed).
func commonZones() []string {
	return []string{
		"UTC",
		"Africa/Lagos", "Africa/Nairobi",
		"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Mexico_City", "America/New_York", "America/Sao_Paulo",
		"Asia/Bangkok", "Asia/Dubai", "Asia/Ho_Chi_Minh", "Asia/Jakarta", "Asia/Kolkata", "Asia/Kuala_Lumpur", "Asia/Manila",
		"Asia/Phnom_Penh", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo",
		"Australia/Sydney",
		"Europe/Berlin", "Europe/London", "Europe/Paris",
	}
}

// zoneList is the time zones the settings page offers, read once when the
// dashboard is built: the common ones, then all of workspace.TimeZones.
type zoneList struct {
	common, all []string
}

func newZoneList() zoneList {
	return zoneList{common: commonZones(), all: workspace.TimeZones()}
}

// zoneGroup is one <optgroup> of the time zone <select>.
type zoneGroup struct {
	Label string
	Zones []zoneOption
}

// zoneOption is one <option>: the IANA name, and how it reads.
type zoneOption struct {
	Name, Label string
	Selected    bool
}

// choices returns the groups with current selected, in its first place
// only (a zone appears in both groups). A current zone not on the list
// (an older alias set through the API, or a value just refused) comes
// first on its own, so the page shows what is there and saving the form
// without touching the zone keeps it.
func (z zoneList) choices(current string) []zoneGroup {
	selected := false
	group := func(label string, names []string) zoneGroup {
		g := zoneGroup{Label: label, Zones: make([]zoneOption, len(names))}
		for i, n := range names {
			g.Zones[i] = zoneOption{Name: n, Label: zoneLabel(n), Selected: !selected && n == current}
			selected = selected || n == current
		}
		return g
	}
	var out []zoneGroup
	if current != "" && !slices.Contains(z.all, current) {
		out = append(out, group("Current", []string{current}))
	}
	return append(out, group("Common", z.common), group("All time zones", z.all))
}

// zoneLabel is how a zone name reads: "Asia/Phnom Penh".
func zoneLabel(name string) string { return strings.ReplaceAll(name, "_", " ") }
