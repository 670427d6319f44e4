package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 4, business hours in the workspace's time zone: admins choose the
// zone in Settings → General from a list (common zones first), with the
// name or alone; a bad value shows next to the field and changes nothing;
// viewers see the zone but cannot change it (P-04).
func TestWorkspaceTimeZonePage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := start(t, d)
		owner, _ := s.signUp(t, "Vanna")
		ws := owner.createWorkspace("Vanna's Cafe")
		viewer, vaddr := s.signUp(t, "Chea")
		s.join(t, owner, ws, viewer, vaddr, "viewer")
		general := "/w/" + ws + "/settings/general"
		stored := func() (string, string) {
			t.Helper()
			w, err := s.Workspaces.Get(context.Background(), ws)
			if err != nil {
				t.Fatal(err)
			}
			return w.Name, w.TimeZone
		}

		p := owner.get(general).want(t, http.StatusOK, `name="time_zone"`, "Used by flows for opening hours",
			`<optgroup label="Common">`, `<optgroup label="All time zones">`, `<option value="UTC" selected>UTC</option>`,
			`<option value="Asia/Phnom_Penh">Asia/Phnom Penh</option>`, `<option value="America/Argentina/Buenos_Aires">`)
		if n := strings.Count(p.Body, " selected>"); n != 1 {
			t.Errorf("%d options selected, want 1", n)
		}

		owner.post(general, url.Values{"name": {"Vanna's Cafe"}, "time_zone": {"Asia/Phnom_Penh"}}).
			want(t, http.StatusOK, "time zone is now Asia/Phnom_Penh", `<option value="Asia/Phnom_Penh" selected>`)
		if name, zone := stored(); name != "Vanna's Cafe" || zone != "Asia/Phnom_Penh" {
			t.Fatalf("stored %q in %q", name, zone)
		}
		owner.get(general).want(t, http.StatusOK, `<option value="Asia/Phnom_Penh" selected>`).lacks(t, `<option value="UTC" selected>`)

		// A bad zone beside a new name: the error is next to the zone, the
		// typed name is kept, nothing is saved.
		owner.post(general, url.Values{"name": {"Renamed"}, "time_zone": {"Mars/Base"}}).
			want(t, http.StatusUnprocessableEntity, `id="ws-time-zone-error"`, "Choose a time zone from the list",
				`aria-describedby="ws-time-zone-hint ws-time-zone-error" aria-invalid="true"`, `value="Renamed"`).
			lacks(t, `id="ws-name-error"`)
		owner.post(general, url.Values{"name": {"Renamed"}, "time_zone": {"Local"}}).want(t, http.StatusUnprocessableEntity, `id="ws-time-zone-error"`)
		if name, zone := stored(); name != "Vanna's Cafe" || zone != "Asia/Phnom_Penh" {
			t.Errorf("a refused form saved %q in %q", name, zone)
		}

		// A form with only the name (an older page) keeps the zone.
		owner.post(general, url.Values{"name": {"Vanna's Coffee"}}).want(t, http.StatusOK, "The workspace is now called “Vanna&#39;s Coffee”.")
		if name, zone := stored(); name != "Vanna's Coffee" || zone != "Asia/Phnom_Penh" {
			t.Errorf("after renaming alone: %q in %q", name, zone)
		}

		// Viewers see it, without the form, and cannot change it.
		viewer.get(general).want(t, http.StatusOK, "Time zone: Asia/Phnom_Penh").lacks(t, `name="time_zone"`)
		viewer.post(general, url.Values{"time_zone": {"UTC"}}).want(t, http.StatusForbidden)
		if _, zone := stored(); zone != "Asia/Phnom_Penh" {
			t.Errorf("a viewer changed the zone to %q", zone)
		}
	})
}
