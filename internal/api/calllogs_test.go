package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/activity"
	"github.com/parleyhq/parley/internal/calllog"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// callLogShop is a workspace in Cambodia's time zone whose one lead has
// the phone +85512345678, and a key issued for the mobile app.
type callLogShop struct {
	ws, lead string
	owner    *apptest.User
	keyID    string
	phone    *apptest.Client // authenticated with the scoped key
}

func newCallLogShop(t *testing.T, a *apptest.App, name, number string) callLogShop {
	t.Helper()
	s := callLogShop{owner: a.SignUp(t, name)}
	s.ws = s.owner.CreateWorkspace(t, name)
	base := "/api/v1/workspaces/" + s.ws
	s.owner.Do("PATCH", base, map[string]string{"time_zone": "Asia/Phnom_Penh"}).Must(t, 200)
	s.lead = seedConversation(t, a, s.ws, "Hello from "+name).contactID
	s.owner.Do("POST", base+"/fields", map[string]string{"key": "phone", "label": "Phone", "type": "phone"}).Must(t, 201)
	s.owner.Do("PUT", base+"/contacts/"+s.lead+"/fields/phone", map[string]string{"value": number}).Must(t, 200)
	var k struct {
		APIKey struct {
			ID     string
			Scopes []string
		} `json:"api_key"`
		Secret string
	}
	s.owner.Do("POST", base+"/api-keys", map[string]any{"name": "Shop phone", "role": "agent", "scopes": []string{" Call_Logs:Write "}}).Must(t, 201).JSON(t, &k)
	if diff := cmp.Diff([]string{"call_logs:write"}, k.APIKey.Scopes); diff != "" {
		t.Fatalf("the key's scopes (-want +got):\n%s", diff)
	}
	s.keyID = k.APIKey.ID
	s.phone = a.Client(t)
	s.phone.Header.Set("Authorization", "Bearer "+k.Secret)
	return s
}

// Promise P-28, through a real server with a key issued for it: a call
// whose number (written as the phone shows it, without the country code)
// is the lead's phone appears on the lead's activity with direction, type,
// duration, time, device and the key that synced; calls of other numbers
// and every contact name are discarded — they reach neither the database
// (every column of every table is scanned), nor the logs, nor the answer.
func TestCallLogUpload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		const (
			canaryNumber = "+85597531864"
			canaryName   = "Canary Sokha Zzyzx"
			matchedName  = "Matched Canary Qwxyz"
			device       = "pixel-7-a1b2"
		)
		shop := newCallLogShop(t, a, "calls-shop", "+85512345678")
		// The canary number is a lead of another workspace: even there the
		// upload must leave no trace.
		newCallLogShop(t, a, "calls-other", canaryNumber)
		before := activityCount(t, d)

		at := a.Clock.Now().Add(-2 * time.Hour).UTC()
		ts := func(m int) string { return at.Add(time.Duration(m) * time.Minute).Format(time.RFC3339) }
		body := `{"device_id":"` + device + `","calls":[
			{"number":"012 345 678","name":"` + matchedName + `","direction":"in","type":"answered","duration":61,"at":"` + ts(30) + `"},
			{"number":"` + canaryNumber + `","name":"` + canaryName + `","direction":"out","type":"answered","duration":120,"at":"` + ts(20) + `"},
			{"number":"097 531 864","name":"` + canaryName + `","direction":"in","type":"missed","duration":0,"at":"` + ts(10) + `"},
			{"number":"` + canaryNumber + `","name":"` + canaryName + `","direction":"sideways","type":"answered","at":"` + ts(5) + `"},
			{"number":"` + canaryNumber + `","name":"` + canaryName + `","direction":"in","type":"answered","duration":"long","at":"` + ts(4) + `"},
			{"number":"` + canaryNumber + `","name":"` + canaryName + `","direction":"in","type":"answered","at":"yesterday"},
			{"number":"` + canaryNumber + `","name":"` + canaryName + `","direction":"in","type":"answered","at":"` + ts(3) + `","` + canaryNumber + `":1}
		]}`
		res := shop.phone.Do("POST", "/api/v1/workspaces/"+shop.ws+"/call-logs", body).Must(t, 200)
		var got calllog.Result
		res.JSON(t, &got)
		want := calllog.Result{Matched: 1, Unmatched: 2, Invalid: 4, Problems: []calllog.Problem{
			{Index: 3, Field: "direction", Message: "Use in or out."},
			{Index: 4, Field: "duration", Message: "Give the duration in whole seconds."},
			{Index: 5, Field: "at", Message: "Give the time in RFC 3339 form, such as 2026-11-21T09:30:00+07:00."},
			{Index: 6, Field: "call", Message: "Send each call as an object with number, name, direction, type, duration and at, and nothing else."},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}

		// The matched call is on the lead's activity, in the store and
		// through the API.
		es, err := a.Activity.List(context.Background(), shop.ws, shop.lead, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var calls []activity.Entry
		for _, e := range es {
			if e.Kind == activity.KindCall {
				calls = append(calls, e)
			}
		}
		if len(calls) != 1 {
			t.Fatalf("the lead has %d call entries, want 1: %+v", len(calls), es)
		}
		wantData := map[string]string{
			calllog.DataDirection: "in", calllog.DataType: "answered", calllog.DataDuration: "61",
			calllog.DataAt: ts(30), calllog.DataDevice: device, calllog.DataUser: "api_key:" + shop.keyID,
		}
		if diff := cmp.Diff(wantData, calls[0].Data); diff != "" {
			t.Errorf("call entry data (-want +got):\n%s", diff)
		}
		if calls[0].Actor != "api_key:"+shop.keyID {
			t.Errorf("call entry actor %q", calls[0].Actor)
		}
		var listed struct {
			Activity []struct {
				Kind string
				Data map[string]string
			}
		}
		shop.owner.Do("GET", "/api/v1/workspaces/"+shop.ws+"/contacts/"+shop.lead+"/activity", nil).Must(t, 200).JSON(t, &listed)
		n := 0
		for _, e := range listed.Activity {
			if e.Kind == "call" && e.Data[calllog.DataDevice] == device {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the activity API lists %d calls, want 1: %+v", n, listed.Activity)
		}
		if n := activityCount(t, d); n != before+1 {
			t.Errorf("%d activity entries were added, want 1", n-before)
		}

		canaries := []string{canaryNumber, strings.TrimPrefix(canaryNumber, "+"), "97531864", "097 531 864", canaryName, "Sokha", "Zzyzx", matchedName, "Qwxyz"}
		dump := dbtest.DumpText(t, d)
		for _, c := range canaries {
			if strings.Contains(dump, c) {
				t.Errorf("the database holds %q", c)
			}
			if strings.Contains(a.Logs.String(), c) {
				t.Errorf("the logs hold %q", c)
			}
			if strings.Contains(string(res.Body), c) {
				t.Errorf("the answer repeats %q", c)
			}
		}
		// The scans can fail: they see what is kept in clear.
		if !strings.Contains(dump, "Shop phone") {
			t.Error("the dump lacks the key's name: the scan is not looking where it should")
		}
		if !strings.Contains(a.Logs.String(), "/call-logs") {
			t.Error("the access log does not show the upload: the log scan is not looking where it should")
		}

		// The same calls again add nothing.
		res = shop.phone.Do("POST", "/api/v1/workspaces/"+shop.ws+"/call-logs", body).Must(t, 200)
		res.JSON(t, &got)
		if got.Matched != 0 || got.Duplicates != 1 || got.Unmatched != 2 || got.Invalid != 4 {
			t.Errorf("second upload: %+v", got)
		}
		if n := activityCount(t, d); n != before+1 {
			t.Errorf("the second upload added %d activity entries", n-before-1)
		}
	})
}

// Promise P-28: the upload route is for keys issued for it. A key of the
// workspace without the scope is refused with 403 naming the scope;
// another workspace's key, scope or not, gets 404; a viewer key cannot be
// given the scope, nor can any key get an unknown scope; a whole upload
// that is refused (too many calls, no device, no calls) is a 422 that
// stores nothing; a signed-in agent may upload, a viewer may not.
func TestCallLogUploadRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		shop := newCallLogShop(t, a, "refusals-shop", "+85512345678")
		other := newCallLogShop(t, a, "refusals-other", "+85512345678")
		base := "/api/v1/workspaces/" + shop.ws
		path := base + "/call-logs"
		one := func(device string) map[string]any {
			return map[string]any{"device_id": device, "calls": []map[string]any{
				{"number": "+85512345678", "direction": "out", "type": "answered", "duration": 30, "at": a.Clock.Now().Add(-time.Hour).Format(time.RFC3339)}}}
		}
		before := activityCount(t, d)

		var plain struct{ Secret string }
		shop.owner.Do("POST", base+"/api-keys", map[string]string{"name": "Integration", "role": "admin"}).Must(t, 201).JSON(t, &plain)
		integration := a.Client(t)
		integration.Header.Set("Authorization", "Bearer "+plain.Secret)
		res := integration.Do("POST", path, one("d1")).Must(t, 403)
		if !strings.Contains(string(res.Body), "call_logs:write") {
			t.Errorf("the refusal does not name the scope: %s", res.Body)
		}
		integration.Do("GET", base+"/contacts/"+shop.lead, nil).Must(t, 200) // the key still works elsewhere
		// The phone's key is a purpose key: it reaches nothing else.
		shop.phone.Do("GET", base+"/contacts/"+shop.lead, nil).Must(t, 403)

		other.phone.Do("POST", path, one("d2")).Must(t, 404)

		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"a viewer key with the scope", map[string]any{"name": "Viewer phone", "role": "viewer", "scopes": []string{"call_logs:write"}}, "scopes"},
			{"an unknown scope", map[string]any{"name": "Odd", "role": "admin", "scopes": []string{"contacts:delete"}}, "scopes"},
		} {
			res := shop.owner.Do("POST", base+"/api-keys", tc.body).Must(t, 422)
			var e struct{ Error struct{ Field string } }
			res.JSON(t, &e)
			if e.Error.Field != tc.field {
				t.Errorf("%s: refused on %q, want %q: %s", tc.name, e.Error.Field, tc.field, res.Body)
			}
		}
		var keys struct {
			APIKeys []struct{ Name string } `json:"api_keys"`
		}
		shop.owner.Do("GET", base+"/api-keys", nil).Must(t, 200).JSON(t, &keys)
		if len(keys.APIKeys) != 2 {
			t.Errorf("refused keys were created: %+v", keys.APIKeys)
		}

		tooMany := one("d3")
		var calls []map[string]any
		for range calllog.MaxBatch + 1 {
			calls = append(calls, tooMany["calls"].([]map[string]any)[0])
		}
		tooMany["calls"] = calls
		for _, tc := range []struct {
			name  string
			body  any
			field string
		}{
			{"too many calls", tooMany, "calls"},
			{"no device", one(""), "device_id"},
			{"no calls", map[string]any{"device_id": "d4"}, "calls"},
			{"the probe body", `{}`, "calls"},
		} {
			res := shop.phone.Do("POST", path, tc.body)
			var e struct{ Error struct{ Field string } }
			res.JSON(t, &e)
			if res.Status != 422 || e.Error.Field != tc.field {
				t.Errorf("%s: %d on %q, want 422 on %q: %s", tc.name, res.Status, e.Error.Field, tc.field, res.Body)
			}
		}
		shop.phone.Do("POST", path, `{"device_id": "d5", "calls": [`).Must(t, 400)
		if n := activityCount(t, d); n != before {
			t.Fatalf("refused uploads added %d activity entries", n-before)
		}

		viewer, agent := a.SignUp(t, "refusals-viewer"), a.SignUp(t, "refusals-agent")
		a.Join(t, shop.owner, shop.ws, viewer, "viewer")
		a.Join(t, shop.owner, shop.ws, agent, "agent")
		viewer.Do("POST", path, one("d6")).Must(t, 403)
		var got calllog.Result
		agent.Do("POST", path, one("d7")).Must(t, 200).JSON(t, &got)
		if got.Matched != 1 {
			t.Errorf("a signed-in agent's upload: %+v", got)
		}
	})
}

// activityCount counts every contact's activity entries.
func activityCount(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(`SELECT count(*) FROM contact_activity`).Scan(context.Background(), &n); err != nil {
		t.Fatal(fmt.Errorf("count activity: %w", err))
	}
	return n
}
