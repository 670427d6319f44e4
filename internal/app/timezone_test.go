package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 4, "business hours in the workspace's time zone", end to end on
// both databases: business hours that name no time zone follow the
// workspace's, in live runs (a Messenger user through the simulator) and
// in the preview, from the moment an admin changes it. The app's clock
// reads Saturday 09:00 UTC, which is 16:00 in Phnom Penh: an afternoon
// shop (13:00–20:00) is closed in UTC and open in Phnom Penh.
func TestBusinessHoursFollowTheWorkspaceTimeZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		if got := a.Clock.Now(); got.Weekday() != time.Saturday || got.Hour() != 9 || got.Location() != time.UTC {
			t.Fatalf("the test assumes Saturday 09:00 UTC, the clock says %v", got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		owner := a.SignUp(t, "hours")
		ws := owner.CreateWorkspace(t, "Afternoon shop")
		ch, err := a.Sim.ConnectTestPage(ctx, audit.Actor{UserID: owner.ID}, ws)
		if err != nil {
			t.Fatal(err)
		}
		doc := `{"format":1,"name":"Hours","triggers":[{"id":"kw","type":"keyword","mode":"contains","keywords":["open"]}],
			"start":"route","nodes":[
			{"id":"route","type":"condition","branches":[{"rules":[{"subject":"business_hours","op":"open","hours":
				{"weekly":[{"days":["mon","tue","wed","thu","fri","sat","sun"],"from":"13:00","to":"20:00"}]}}],"next":"yes"}],"else":"no"},
			{"id":"yes","type":"message","text":"We are open."},
			{"id":"no","type":"message","text":"We are closed."}]}`
		base := "/api/v1/workspaces/" + ws
		var created struct{ Flow struct{ ID string } }
		owner.Do("POST", base+"/flows", doc).Must(t, 201).JSON(t, &created)
		owner.Do("POST", base+"/flows/"+created.Flow.ID+"/publish", nil).Must(t, 200)

		sim := a.Sim.Sim()
		page := ch.ExternalID
		psid := sim.AddPerson(page, metasim.Person{FirstName: "Srey", LastName: "Neang"})
		// ask writes the keyword and returns the n-th message the page sent.
		ask := func(n int) string {
			t.Helper()
			if _, status, err := sim.SendText(ctx, page, psid, "are you open?"); err != nil || status != 200 {
				t.Fatalf("webhook: %d %v", status, err)
			}
			sent, err := sim.WaitSent(ctx, page, n)
			if err != nil {
				t.Fatalf("waiting for message %d: %v (sent: %d)", n, err, len(sent))
			}
			var m sentMessage
			if err := json.Unmarshal(sent[n-1].Message, &m); err != nil {
				t.Fatal(err)
			}
			return m.Text
		}
		preview := func() string {
			t.Helper()
			var res struct {
				Transcript []struct{ Content *struct{ Text string } }
			}
			owner.Do("POST", base+"/flows/"+created.Flow.ID+"/simulate", map[string]any{}).Must(t, 200).JSON(t, &res)
			if len(res.Transcript) != 1 || res.Transcript[0].Content == nil {
				t.Fatalf("preview transcript %+v", res.Transcript)
			}
			return res.Transcript[0].Content.Text
		}

		// A new workspace is in UTC: 09:00 is before opening.
		if got := ask(1); got != "We are closed." {
			t.Errorf("in UTC, live: %q", got)
		}
		if got := preview(); got != "We are closed." {
			t.Errorf("in UTC, preview: %q", got)
		}

		owner.Do("PATCH", base, map[string]string{"time_zone": "Asia/Phnom_Penh"}).Must(t, 200)
		// At once (this process's cached zone was dropped): 16:00 in Phnom Penh.
		if got := ask(2); got != "We are open." {
			t.Errorf("in Asia/Phnom_Penh, live: %q", got)
		}
		if got := preview(); got != "We are open." {
			t.Errorf("in Asia/Phnom_Penh, preview: %q", got)
		}
	})
}
