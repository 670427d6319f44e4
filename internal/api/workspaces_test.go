package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

type workspaceOut struct {
	ID, Name, Role string
	TimeZone       string `json:"time_zone"`
}

// A workspace's time zone (issue 4: business hours in the workspace's time
// zone): UTC unless chosen at creation, shown by GET as openapi.json says,
// changed by PATCH alone or with the name by admins only; an unknown zone
// is a 422 naming time_zone that changes nothing, and each change is in
// the audit log (P-06).
func TestWorkspaceTimeZoneAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		owner := a.SignUp(t, "tz")
		ws := owner.CreateWorkspace(t, "Zones")
		admin, agent, viewer := a.SignUp(t, "tz-admin"), a.SignUp(t, "tz-agent"), a.SignUp(t, "tz-viewer")
		a.Join(t, owner, ws, admin, "admin")
		a.Join(t, owner, ws, agent, "agent")
		a.Join(t, owner, ws, viewer, "viewer")
		base := "/api/v1/workspaces/" + ws

		get := func() workspaceOut {
			t.Helper()
			var w workspaceOut
			viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &w)
			return w
		}
		var doc, raw map[string]any
		if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
			t.Fatal(err)
		}
		viewer.Do("GET", base, nil).Must(t, 200).JSON(t, &raw)
		if seen := conforms(t, doc, "#/components/schemas/Membership", raw, "workspace"); !seen[".time_zone"] {
			t.Errorf("GET workspace has no time_zone: %v", raw)
		}
		if w := get(); w.TimeZone != "UTC" || w.Name != "Zones" {
			t.Fatalf("new workspace: %+v", w)
		}

		// Chosen at creation; a bad one creates nothing.
		var made workspaceOut
		owner.Do("POST", "/api/v1/workspaces", map[string]string{"name": "Phnom Penh shop", "time_zone": "Asia/Phnom_Penh"}).Must(t, 201).JSON(t, &made)
		if made.TimeZone != "Asia/Phnom_Penh" || made.Role != "owner" {
			t.Errorf("created %+v", made)
		}
		if e := errorOf(t, owner.Do("POST", "/api/v1/workspaces", map[string]string{"name": "Nowhere", "time_zone": "Mars/Base"}).Must(t, 422)); e.Error.Code != "invalid_time_zone" || e.Error.Field != "time_zone" {
			t.Errorf("bad zone at creation: %+v", e)
		}
		var mine struct{ Workspaces []workspaceOut }
		owner.Do("GET", "/api/v1/workspaces", nil).Must(t, 200).JSON(t, &mine)
		if len(mine.Workspaces) != 2 {
			t.Errorf("workspaces after a refused create: %+v", mine.Workspaces)
		}

		// The time zone alone.
		var got workspaceOut
		owner.Do("PATCH", base, map[string]string{"time_zone": "Asia/Phnom_Penh"}).Must(t, 200).JSON(t, &got)
		if got.TimeZone != "Asia/Phnom_Penh" || got.Name != "Zones" || got.Role != "owner" {
			t.Errorf("PATCH time_zone = %+v", got)
		}
		if w := get(); w.TimeZone != "Asia/Phnom_Penh" || w.Name != "Zones" {
			t.Errorf("after PATCH time_zone: %+v", w)
		}

		// Refused: nothing changes, the error names the field.
		for _, tc := range []struct {
			body        any
			status      int
			code, field string
		}{
			{map[string]string{"time_zone": "Mars/Base"}, 422, "invalid_time_zone", "time_zone"},
			{map[string]string{"name": "Renamed", "time_zone": "Mars/Base"}, 422, "invalid_time_zone", "time_zone"},
			{map[string]string{"name": "Renamed", "time_zone": "Local"}, 422, "invalid_time_zone", "time_zone"},
			{map[string]string{"time_zone": ""}, 422, "invalid_time_zone", "time_zone"},
			{map[string]string{"time_zone": "Asia/" + strings.Repeat("x", 64)}, 422, "invalid_time_zone", "time_zone"},
			{map[string]string{"name": "", "time_zone": "Europe/Paris"}, 422, "invalid_name", "name"},
			{map[string]any{"time_zone": 7}, 400, "wrong_type", "time_zone"},
			{map[string]any{}, 400, "nothing_to_change", ""},
		} {
			res := owner.Do("PATCH", base, tc.body)
			if e := errorOf(t, res); res.Status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("PATCH %v: %d %s", tc.body, res.Status, res.Body)
			}
		}
		if w := get(); w.TimeZone != "Asia/Phnom_Penh" || w.Name != "Zones" {
			t.Errorf("refused patches changed the workspace: %+v", w)
		}

		// Both at once, by an admin.
		admin.Do("PATCH", base, map[string]string{"name": "Zones Ltd", "time_zone": "Europe/Paris"}).Must(t, 200).JSON(t, &got)
		if got.TimeZone != "Europe/Paris" || got.Name != "Zones Ltd" || got.Role != "admin" {
			t.Errorf("PATCH both = %+v", got)
		}

		// Promise P-04: agents and viewers cannot change it.
		for _, u := range []*apptest.User{agent, viewer} {
			u.Do("PATCH", base, map[string]string{"time_zone": "UTC"}).Must(t, 403)
		}
		if w := get(); w.TimeZone != "Europe/Paris" {
			t.Errorf("a refused member changed the zone to %s", w.TimeZone)
		}

		var log struct {
			Entries []struct {
				Action  string
				Details json.RawMessage
			}
		}
		owner.Do("GET", base+"/audit-log", nil).Must(t, 200).JSON(t, &log)
		var changes []string
		for _, e := range log.Entries {
			if e.Action == "workspace.time_zone_change" {
				changes = append(changes, string(e.Details))
			}
		}
		want := []string{`{"from":"Asia/Phnom_Penh","to":"Europe/Paris"}`, `{"from":"UTC","to":"Asia/Phnom_Penh"}`}
		if strings.Join(changes, " ") != strings.Join(want, " ") {
			t.Errorf("time zone changes in the audit log (newest first): %v", changes)
		}
	})
}
