package calllog_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/calllog"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

var (
	admin      = audit.Actor{UserID: "user-admin"}
	byAgent    = contact.By{Kind: contact.ByUser, ID: "user-agent"}
	byPhoneApp = contact.By{Kind: contact.ByAPIKey, ID: "key-phone"}
)

// at is a call time: the fixture's epoch minus minutes.
func at(minutes int) time.Time { return fixture.Epoch.Add(-time.Duration(minutes) * time.Minute) }

// Promise P-28: nothing of an unmatched call, and no contact name of any
// call, reaches the database — not in clear, not as a blind digest. The
// canaries are planted in unmatched calls (numbers in several spellings,
// one that does not parse) and as names on matched and unmatched calls;
// then every column of every table, the engine's own included, is scanned
// for them (dbtest.DumpText shows binary values raw, in hex and in both
// base64s), as are the result and the error text.
func TestNothingOfUnmatchedCallsReachesTheDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws, other := e.workspace(t), e.workspace(t)
		e.region[ws] = "KH"
		lead := e.lead(t, ws, "lead", "+85512345678")
		// The canary number is a lead in another workspace: even there it
		// must leave no trace from this upload.
		e.lead(t, other, "elsewhere", "+85597531864")

		const (
			canaryNumber = "+85597531864"
			canaryName   = "Canary Sokha Zzyzx"
			matchedName  = "Matched Canary Qwxyz"
			oddNumber    = "CANARY*#77731#"
		)
		calls := []calllog.Call{
			{Number: "012 345 678", Name: matchedName, Direction: calllog.In, Type: calllog.Answered, Duration: 61, At: at(30)},
			{Number: canaryNumber, Name: canaryName, Direction: calllog.Out, Type: calllog.Answered, Duration: 120, At: at(20)},
			{Number: "097 531 864", Name: canaryName, Direction: calllog.In, Type: calllog.Missed, At: at(10)},
			{Number: "+855 97 531 864", Name: canaryName, Direction: calllog.In, Type: calllog.Voicemail, Duration: 5, At: at(5)},
			{Number: oddNumber, Name: canaryName, Direction: calllog.In, Type: calllog.Rejected, At: at(4)},
			{Number: canaryNumber, Name: canaryName, Direction: "sideways", Type: calllog.Answered, At: at(3)}, // invalid
		}
		res, err := e.syncer.Sync(context.Background(), byPhoneApp, ws, "device-1", calls)
		if err != nil {
			t.Fatal(err)
		}
		want := calllog.Result{Matched: 1, Unmatched: 4, Invalid: 1,
			Problems: []calllog.Problem{{Index: 5, Field: "direction", Message: "Use in or out."}}}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
		if got := e.calls(t, ws, lead); len(got) != 1 {
			t.Fatalf("the matched call was not recorded: %+v", got)
		}

		canaries := []string{
			canaryNumber, strings.TrimPrefix(canaryNumber, "+"), "97531864", "097 531 864", "+855 97 531 864", oddNumber, "CANARY",
			canaryName, "Sokha", "Zzyzx", matchedName, "Qwxyz",
		}
		// The blind digests an unmatched call could have left: its phone
		// index digest and its deduplication keys.
		digests := [][]byte{contact.PhoneDigest(e.kr, ws, canaryNumber)}
		for _, c := range calls[1:] {
			digests = append(digests, e.syncer.CallKey(ws, canaryNumber, c))
		}
		dump := dbtest.DumpText(t, d)
		for _, c := range canaries {
			if strings.Contains(dump, c) {
				t.Errorf("the database holds %q", c)
			}
		}
		for i, dg := range digests {
			for _, form := range []string{string(dg), hex.EncodeToString(dg), base64.StdEncoding.EncodeToString(dg), base64.RawURLEncoding.EncodeToString(dg)} {
				if strings.Contains(dump, form) {
					t.Errorf("the database holds blind digest %d of the unmatched number", i)
				}
			}
		}
		// The test can fail: the matched call's key is there.
		if !strings.Contains(dump, hex.EncodeToString(e.syncer.CallKey(ws, "+85512345678", calls[0]))) {
			t.Error("the matched call's key is not in the dump: the scan is not looking where it should")
		}
		// Nor sealed: the lead's entry, opened, holds none of them.
		for _, en := range e.calls(t, ws, lead) {
			for k, v := range en.Data {
				for _, c := range canaries {
					if strings.Contains(k+"="+v, c) {
						t.Errorf("the activity entry holds %q in %s", c, k)
					}
				}
			}
		}
		out := fmt.Sprintf("%+v", res)
		for _, c := range canaries {
			if strings.Contains(out, c) {
				t.Errorf("the result repeats %q: %s", c, out)
			}
		}
		// The other workspace got nothing either.
		if n := rows(t, d, "contact_activity"); n != 1 {
			t.Errorf("%d activity entries, want 1", n)
		}
		if n := rows(t, d, "call_log_seen"); n != 1 {
			t.Errorf("%d call keys, want 1", n)
		}
	})
}

// Promise P-28: a matched call becomes an activity entry on the lead with
// direction, type, duration, time, device and the syncing user — on every
// lead having the number, in any phone field, read in the workspace's
// region.
func TestMatchedCallsAreRecorded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		e.region[ws] = "KH"
		a := e.lead(t, ws, "a", "012 345 678")
		b := e.lead(t, ws, "b", "")
		if _, err := e.contacts.SetField(ctx, nil, ws, b, "mobile", "+85512345678", contact.SetOptions{By: byAgent}); err != nil {
			t.Fatal(err)
		}
		c := e.lead(t, ws, "c", "+85517000111")

		start := time.Date(2026, 11, 2, 8, 15, 42, 123e6, time.FixedZone("ICT", 7*3600))
		res := e.sync(t, ws,
			calllog.Call{Number: "+855 12 345 678", Name: "Dara", Direction: calllog.In, Type: calllog.Answered, Duration: 95, At: start},
			calllog.Call{Number: "017 000 111", Direction: calllog.Out, Type: calllog.Missed, At: start.Add(time.Minute)},
		)
		if diff := cmp.Diff(calllog.Result{Matched: 2, Problems: []calllog.Problem{}}, res); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
		wantA := map[string]string{
			calllog.DataDirection: "in", calllog.DataType: "answered", calllog.DataDuration: "95",
			calllog.DataAt: "2026-11-02T01:15:42Z", calllog.DataDevice: "device-1", calllog.DataUser: "api_key:key-phone",
		}
		for _, id := range []string{a, b} {
			got := e.calls(t, ws, id)
			if len(got) != 1 {
				t.Fatalf("contact %s has %d call entries, want 1", id, len(got))
			}
			if diff := cmp.Diff(wantA, got[0].Data); diff != "" {
				t.Errorf("call data (-want +got):\n%s", diff)
			}
			if got[0].Actor != "api_key:key-phone" || !got[0].At.Equal(start.Truncate(time.Second)) {
				t.Errorf("entry actor %q at %v", got[0].Actor, got[0].At)
			}
		}
		got := e.calls(t, ws, c)
		if len(got) != 1 || got[0].Data[calllog.DataDirection] != "out" || got[0].Data[calllog.DataType] != "missed" || got[0].Data[calllog.DataDuration] != "0" {
			t.Errorf("contact c's calls = %+v", got)
		}

		// Without a region, a number without its country code cannot match.
		e.region[ws] = ""
		res = e.sync(t, ws, calllog.Call{Number: "012 345 678", Direction: calllog.In, Type: calllog.Missed, At: start.Add(time.Hour)})
		if res.Unmatched != 1 || res.Matched != 0 {
			t.Errorf("without a region: %+v", res)
		}
	})
}

// Uploading the same calls again, or one call twice in an upload, adds
// nothing; a call at another second or in the other direction is new.
func TestReuploadAddsNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		lead := e.lead(t, ws, "lead", "+85512345678")
		call := calllog.Call{Number: "+85512345678", Direction: calllog.In, Type: calllog.Answered, Duration: 10, At: at(60)}
		res := e.sync(t, ws, call, call)
		if res.Matched != 1 || res.Duplicates != 1 {
			t.Errorf("first upload = %+v, want 1 matched and 1 duplicate", res)
		}
		again := call
		again.Name, again.Duration, again.Type = "Renamed", 11, calllog.Voicemail     // other details change nothing
		again.At = again.At.Add(400 * time.Millisecond).In(time.FixedZone("x", 3600)) // same second, other zone
		res = e.sync(t, ws, call, again)
		if diff := cmp.Diff(calllog.Result{Duplicates: 2, Problems: []calllog.Problem{}}, res); diff != "" {
			t.Errorf("re-upload (-want +got):\n%s", diff)
		}
		later, back := call, call
		later.At = later.At.Add(time.Second)
		back.Direction = calllog.Out
		res = e.sync(t, ws, later, back)
		if res.Matched != 2 || res.Duplicates != 0 {
			t.Errorf("new calls = %+v, want 2 matched", res)
		}
		if n := len(e.calls(t, ws, lead)); n != 3 {
			t.Errorf("%d call entries, want 3", n)
		}
		// A deleted contact takes its keys with it.
		if _, err := d.W.NewRaw(`DELETE FROM contacts WHERE id = ?`, lead).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := rows(t, d, "call_log_seen"); n != 0 {
			t.Errorf("%d call keys left after the contact was deleted", n)
		}
	})
}

// Invalid calls are reported by index and field and skipped; the valid
// ones of the same upload are recorded.
func TestInvalidRowsReportedAndSkipped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		lead := e.lead(t, ws, "lead", "+85512345678")
		good := calllog.Call{Number: "+85512345678", Direction: calllog.In, Type: calllog.Answered, Duration: 10, At: at(60)}
		mod := func(i int, f func(c *calllog.Call)) calllog.Call {
			c := good
			c.At = at(60 + i)
			f(&c)
			return c
		}
		calls := []calllog.Call{
			good,
			mod(1, func(c *calllog.Call) { c.Number = "  " }),
			mod(2, func(c *calllog.Call) { c.Number = strings.Repeat("1", 65) }),
			mod(3, func(c *calllog.Call) { c.Direction = "" }),
			mod(4, func(c *calllog.Call) { c.Type = "busy" }),
			mod(5, func(c *calllog.Call) { c.Duration = -1 }),
			mod(6, func(c *calllog.Call) { c.Duration = calllog.MaxDuration + 1 }),
			mod(7, func(c *calllog.Call) { c.At = time.Time{} }),
			mod(8, func(c *calllog.Call) { c.At = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }),
			mod(9, func(c *calllog.Call) { c.At = fixture.Epoch.Add(11 * time.Minute) }),
			mod(10, func(c *calllog.Call) { c.At = fixture.Epoch.Add(9 * time.Minute) }), // phone clock a little fast: fine
			mod(11, func(c *calllog.Call) { c.Number = "\xff\xfe" }),
		}
		res := e.sync(t, ws, calls...)
		var got []string
		for _, p := range res.Problems {
			got = append(got, fmt.Sprintf("%d %s", p.Index, p.Field))
			if p.Message == "" {
				t.Errorf("problem %d has no message", p.Index)
			}
		}
		want := []string{"1 number", "2 number", "3 direction", "4 type", "5 duration", "6 duration", "7 at", "8 at", "9 at", "11 number"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
		if res.Invalid != len(want) || res.Matched != 2 {
			t.Errorf("result = %+v, want %d invalid and 2 matched", res, len(want))
		}
		if n := len(e.calls(t, ws, lead)); n != 2 {
			t.Errorf("%d entries, want the 2 valid calls", n)
		}
	})
}

// Promise P-03 within P-28: another workspace's contact with the same
// phone is never matched, and its activity is untouched.
func TestOtherWorkspaceNeverMatched(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws, other := e.workspace(t), e.workspace(t)
		theirs := e.lead(t, other, "theirs", "+85512345678")
		e.lead(t, ws, "ours", "+85517000111")
		res := e.sync(t, ws, calllog.Call{Number: "+85512345678", Direction: calllog.In, Type: calllog.Answered, At: at(5)})
		if res.Unmatched != 1 || res.Matched != 0 {
			t.Errorf("result = %+v, want unmatched", res)
		}
		if got := e.calls(t, other, theirs); len(got) != 0 {
			t.Errorf("the other workspace's contact got %d entries", len(got))
		}
		if n := rows(t, d, "contact_activity") + rows(t, d, "call_log_seen"); n != 0 {
			t.Errorf("%d rows written for an unmatched call", n)
		}
	})
}

// A whole upload is refused, and nothing written, when it is too big, its
// device ID is unusable or its author is not a user or key.
func TestUploadRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		e.lead(t, ws, "lead", "+85512345678")
		call := calllog.Call{Number: "+85512345678", Direction: calllog.In, Type: calllog.Answered, At: at(5)}
		many := make([]calllog.Call, calllog.MaxBatch+1)
		for i := range many {
			many[i] = call
			many[i].At = at(i + 1)
		}
		for _, tc := range []struct {
			name   string
			by     contact.By
			device string
			calls  []calllog.Call
			field  string
		}{
			{"too many calls", byPhoneApp, "device-1", many, "calls"},
			{"no device", byPhoneApp, "", []calllog.Call{call}, "device_id"},
			{"device too long", byPhoneApp, strings.Repeat("d", 129), []calllog.Call{call}, "device_id"},
			{"device with a control character", byPhoneApp, "dev\nice", []calllog.Call{call}, "device_id"},
			{"device not UTF-8", byPhoneApp, "dev\xffice", []calllog.Call{call}, "device_id"},
			{"a flow as author", contact.By{Kind: contact.ByFlow, ID: "f"}, "device-1", []calllog.Call{call}, ""},
			{"a user without ID", contact.By{Kind: contact.ByUser}, "device-1", []calllog.Call{call}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.syncer.Sync(context.Background(), tc.by, ws, tc.device, tc.calls)
				if !errors.Is(err, calllog.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				if v, ok := validate.As(err); tc.field != "" && (!ok || v.Field != tc.field) {
					t.Errorf("err = %v, want a validation error on %q", err, tc.field)
				}
			})
		}
		if n := rows(t, d, "contact_activity") + rows(t, d, "call_log_seen"); n != 0 {
			t.Errorf("%d rows written by refused uploads", n)
		}
		// Exactly MaxBatch is fine, and an empty upload does nothing.
		if res := e.sync(t, ws, many[:calllog.MaxBatch]...); res.Matched != calllog.MaxBatch {
			t.Errorf("a full batch = %+v", res)
		}
		if res := e.sync(t, ws); !cmp.Equal(res, calllog.Result{Problems: []calllog.Problem{}}) {
			t.Errorf("an empty upload = %+v", res)
		}
	})
}
