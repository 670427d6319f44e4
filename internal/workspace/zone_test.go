package workspace_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // as in cmd/parley: the zones load on hosts without a zone database

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/validate"
	"github.com/parleyhq/parley/internal/workspace"
)

func ptr(s string) *string { return &s }

func TestParseTimeZone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"UTC", "UTC"},
		{"Asia/Phnom_Penh", "Asia/Phnom_Penh"},
		{"  Europe/Paris\n", "Europe/Paris"},
		// A listed zone in other letters takes the list's spelling, which
		// loads on every host.
		{"asia/phnom_penh", "Asia/Phnom_Penh"},
		{"utc", "UTC"},
		// Older names Go knows are accepted as they are.
		{"US/Eastern", "US/Eastern"},
		{"Etc/GMT-7", "Etc/GMT-7"},
	} {
		loc, err := workspace.ParseTimeZone(tc.in)
		if err != nil || loc.String() != tc.want {
			t.Errorf("ParseTimeZone(%q) = %v, %v; want %s", tc.in, loc, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "   ", "Local", "local", "Mars/Olympus_Mons", "Asia/Phnom Penh",
		"../../etc/passwd", "/etc/localtime", "Asia/Phnom_Penh\x00", "+07:00",
		"Asia/" + strings.Repeat("x", 60),
	} {
		loc, err := workspace.ParseTimeZone(bad)
		if v, ok := validate.As(err); !ok || v.Field != "time_zone" || v.Message == "" {
			t.Errorf("ParseTimeZone(%q) = %v, %v; want a validation error on time_zone", bad, loc, err)
		}
	}
}

// Every zone offered loads under its own name, UTC first, the rest in
// order without repeats: a person can pick any of them and store it.
func TestTimeZoneList(t *testing.T) {
	zones := workspace.TimeZones()
	if len(zones) < 400 || zones[0] != "UTC" {
		t.Fatalf("%d zones starting with %v", len(zones), zones[:min(3, len(zones))])
	}
	if !slices.IsSorted(zones[1:]) || len(slices.Compact(slices.Clone(zones))) != len(zones) {
		t.Error("the zones after UTC are not sorted and unique")
	}
	for _, z := range zones {
		loc, err := workspace.ParseTimeZone(z)
		if err != nil || loc.String() != z {
			t.Errorf("listed zone %q: %v, %v", z, loc, err)
		}
	}
	for _, want := range []string{"Asia/Phnom_Penh", "America/New_York", "Europe/London", "Australia/Sydney"} {
		if !slices.Contains(zones, want) {
			t.Errorf("%s is not offered", want)
		}
	}
	zones[0] = "changed"
	if workspace.TimeZones()[0] != "UTC" {
		t.Error("TimeZones shares its slice")
	}
}

// A workspace's time zone: chosen at creation (UTC unless given), changed
// alone or with the name, every value checked before anything is written,
// and each real change audited with what it was and became (P-06).
func TestWorkspaceTimeZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Zoned")
		if w.TimeZone != workspace.DefaultTimeZone {
			t.Fatalf("new workspace in %q, want UTC", w.TimeZone)
		}
		f.invalid("time_zone", func() error { _, err := f.svc.Create(f.ctx, as(o), "Nowhere", "Mars/Base"); return err })
		if n := f.count(`SELECT count(*) FROM workspaces`); n != 1 {
			t.Errorf("%d workspaces after a refused create, want 1", n)
		}

		f.clk.Advance(time.Minute)
		got, err := f.svc.Update(f.ctx, as(o), w.ID, workspace.Changes{TimeZone: ptr(" asia/phnom_penh ")})
		if err != nil {
			t.Fatal(err)
		}
		if got.TimeZone != "Asia/Phnom_Penh" || got.Name != "Zoned" || !got.UpdatedAt.Equal(start.Add(time.Minute)) {
			t.Errorf("after the change: %+v", got)
		}
		if r, _ := f.svc.Get(f.ctx, w.ID); r.TimeZone != "Asia/Phnom_Penh" {
			t.Errorf("stored %q", r.TimeZone)
		}
		es := f.entries(w.ID)
		last := es[len(es)-1]
		if last.Action != workspace.ActionWorkspaceTimeZone || last.TargetID != w.ID || *last.ActorUserID != o ||
			string(last.Details) != `{"from":"UTC","to":"Asia/Phnom_Penh"}` {
			t.Errorf("time zone entry = %+v (details %s)", last, last.Details)
		}

		// A bad value beside a good one changes neither.
		before := f.row(`SELECT name, time_zone, updated_at FROM workspaces WHERE id = ?`, w.ID)
		f.invalid("time_zone", func() error {
			_, err := f.svc.Update(f.ctx, as(o), w.ID, workspace.Changes{Name: ptr("Renamed"), TimeZone: ptr("Local")})
			return err
		})
		f.invalid("name", func() error {
			_, err := f.svc.Update(f.ctx, as(o), w.ID, workspace.Changes{Name: ptr(" "), TimeZone: ptr("Europe/Paris")})
			return err
		})
		f.invalid("time_zone", func() error {
			_, err := f.svc.Update(f.ctx, as(o), w.ID, workspace.Changes{TimeZone: ptr("")})
			return err
		})
		f.refused(db.ErrNotFound, func() error {
			_, err := f.svc.Update(f.ctx, as(o), "no-such-workspace", workspace.Changes{TimeZone: ptr("Europe/Paris")})
			return err
		})
		// Values it has already, or no values at all: nothing is written.
		f.clk.Advance(time.Minute)
		for _, c := range []workspace.Changes{{}, {Name: ptr("Zoned"), TimeZone: ptr("Asia/Phnom_Penh")}} {
			n := f.auditCount()
			if _, err := f.svc.Update(f.ctx, as(o), w.ID, c); err != nil {
				t.Fatal(err)
			}
			if f.auditCount() != n {
				t.Errorf("Update(%+v) without a change was audited", c)
			}
		}
		if after := f.row(`SELECT name, time_zone, updated_at FROM workspaces WHERE id = ?`, w.ID); after["name"] != before["name"] ||
			after["time_zone"] != before["time_zone"] || after["updated_at"] != before["updated_at"] {
			t.Errorf("refused or empty updates changed the row: %v → %v", before, after)
		}

		// Both at once: one entry each.
		n := f.auditCount()
		got, err = f.svc.Update(f.ctx, as(o), w.ID, workspace.Changes{Name: ptr("Zoned Ltd"), TimeZone: ptr("Europe/Paris")})
		if err != nil || got.Name != "Zoned Ltd" || got.TimeZone != "Europe/Paris" {
			t.Fatalf("both = %+v, %v", got, err)
		}
		if a := f.actions(w.ID); f.auditCount() != n+2 || !slices.Equal(a[len(a)-2:], []string{workspace.ActionWorkspaceRename, workspace.ActionWorkspaceTimeZone}) {
			t.Errorf("actions after changing both: %v", a)
		}
	})
}

// The runner's read: remembered for TimeZoneTTL, so a change made through
// another service (another replica) shows after at most that long, while
// a change made through this one shows at once.
func TestTimeZoneLookup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, workspace.Options{TimeZoneTTL: 30 * time.Second})
		other := workspace.NewService(d, f.keys, workspace.Options{Now: f.clk.Now})
		w, o := f.workspace("Looked up")
		zone := func(svc *workspace.Service) string {
			t.Helper()
			loc, err := svc.TimeZone(f.ctx, w.ID)
			if err != nil {
				t.Fatal(err)
			}
			return loc.String()
		}
		if z := zone(f.svc); z != "UTC" {
			t.Fatalf("new workspace's zone = %s", z)
		}

		// Changed elsewhere: this service keeps what it read until the TTL ends.
		if _, err := other.Update(f.ctx, as(o), w.ID, workspace.Changes{TimeZone: ptr("Asia/Phnom_Penh")}); err != nil {
			t.Fatal(err)
		}
		if z := zone(other); z != "Asia/Phnom_Penh" {
			t.Errorf("the changing service reads %s", z)
		}
		f.clk.Advance(30*time.Second - time.Microsecond)
		if z := zone(f.svc); z != "UTC" {
			t.Errorf("within the TTL: %s, want the remembered UTC", z)
		}
		f.clk.Advance(time.Microsecond)
		if z := zone(f.svc); z != "Asia/Phnom_Penh" {
			t.Errorf("after the TTL: %s", z)
		}

		// Changed here: seen at once, with no wait for the TTL.
		if _, err := f.svc.Update(f.ctx, as(o), w.ID, workspace.Changes{TimeZone: ptr("America/New_York")}); err != nil {
			t.Fatal(err)
		}
		if z := zone(f.svc); z != "America/New_York" {
			t.Errorf("after a local change: %s", z)
		}

		if _, err := f.svc.TimeZone(f.ctx, "no-such-workspace"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown workspace: %v", err)
		}
		// A value no replica can load (written by hand) is an error, not UTC
		// in disguise: the caller decides.
		f.clk.Advance(time.Minute)
		if _, err := d.W.NewRaw(`UPDATE workspaces SET time_zone = 'Mars/Base' WHERE id = ?`, w.ID).Exec(f.ctx); err != nil {
			t.Fatal(err)
		}
		if loc, err := f.svc.TimeZone(f.ctx, w.ID); err == nil {
			t.Errorf("unloadable stored zone read as %v", loc)
		}
	})
}
