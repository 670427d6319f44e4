package workspace

import (
	_ "embed"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/validate"
)

// DefaultTimeZone is a workspace's time zone until someone chooses another.
const DefaultTimeZone = "UTC"

// maxTimeZoneLen bounds a time zone name in bytes. IANA's longest is 32
// ("America/Argentina/ComodRivadavia"); the bound only keeps junk out.
const maxTimeZoneLen = 64

// zoneList is zones.txt: the names TimeZones offers.
//
//go:embed zones.txt
var zoneList string

// TimeZones returns the time zones to choose from: "UTC" first, then every
// zone of IANA's zone.tab in alphabetical order, one per country region
// (Asia/Phnom_Penh, America/New_York). ParseTimeZone accepts more (older
// aliases such as "US/Eastern"); this is the list people pick from. Each
// call returns a new slice.
func TimeZones() []string {
	var out []string
	for line := range strings.Lines(zoneList) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// ParseTimeZone checks an IANA time zone name ("Asia/Phnom_Penh") and
// loads it; the location's String is the name to store. Surrounding space
// is ignored and a listed name in other letter case takes the list's
// spelling, so every replica can load what is stored (zone names are file
// names, case-sensitive on most hosts). "Local" is refused: it means the
// server's own zone, which differs between hosts. A bad name is a
// *validate.Error on field "time_zone".
func ParseTimeZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, validate.Field("time_zone", "Choose a time zone.")
	}
	if len(name) > maxTimeZoneLen || strings.EqualFold(name, "Local") {
		return nil, badTimeZone()
	}
	for _, z := range TimeZones() {
		if strings.EqualFold(z, name) {
			name = z
			break
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, badTimeZone()
	}
	return loc, nil
}

func badTimeZone() error {
	return validate.Field("time_zone", "Choose a time zone from the list, like Asia/Phnom_Penh or UTC.")
}
