package app

import (
	"testing"

	"github.com/parleyhq/parley/internal/workspace"
)

// Every zone the dashboard offers names its country, so numbers written
// without their country code match leads' phones (P-28); UTC and zones of
// no one country name none, and then only international numbers match.
func TestZoneRegions(t *testing.T) {
	for _, z := range workspace.TimeZones() {
		r := zoneRegion(z)
		switch {
		case z == workspace.DefaultTimeZone:
			if r != "" {
				t.Errorf("%s has region %q, want none", z, r)
			}
		case len(r) != 2 || r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z':
			t.Errorf("%s has region %q, want an ISO 3166-1 alpha-2 code", z, r)
		}
	}
	for zone, want := range map[string]string{
		"Asia/Phnom_Penh": "KH", "Asia/Bangkok": "TH", "Asia/Ho_Chi_Minh": "VN", "Asia/Saigon": "VN",
		"America/New_York": "US", "Europe/London": "GB", "UTC": "", "Etc/GMT-7": "", "Mars/Olympus": "",
	} {
		if got := zoneRegion(zone); got != want {
			t.Errorf("zoneRegion(%q) = %q, want %q", zone, got, want)
		}
	}
}
