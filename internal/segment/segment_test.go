package segment_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// world is three contacts of one workspace and a look-alike in another.
type world struct {
	ws, other         string
	a, b, c, stranger string
	ch1, ch2          string
	vip, otherVIP     string
}

func build(t *testing.T, e *env) world {
	t.Helper()
	var w world
	w.ws = fixture.Workspace(t, e.d, e.kr)
	w.other = fixture.Workspace(t, e.d, e.kr)
	p1 := fixture.Messenger(t, e.channels, w.ws, "page-1", "tok-1")
	p2 := fixture.Messenger(t, e.channels, w.ws, "page-2", "tok-2")
	po := fixture.Messenger(t, e.channels, w.other, "page-o", "tok-o")
	w.ch1, w.ch2 = p1.ID, p2.ID

	for _, ws := range []string{w.ws, w.other} {
		e.field(t, ws, "city", contact.FieldText)
		e.field(t, ws, "age", contact.FieldNumber)
		e.field(t, ws, "birthday", contact.FieldDate)
		e.field(t, ws, "vip_flag", contact.FieldBoolean)
		e.field(t, ws, "phone", contact.FieldPhone)
		e.field(t, ws, "email", contact.FieldEmail)
		e.field(t, ws, "plan", contact.FieldChoice, "Gold", "Silver")
	}

	e.now = fixture.Epoch
	w.a = e.person(t, p1, "psid-a")
	e.now = fixture.Epoch.Add(48 * time.Hour)
	w.b = e.person(t, p1, "psid-b")
	e.now = fixture.Epoch.Add(5 * 24 * time.Hour)
	w.c = e.person(t, p2, "psid-c")
	w.stranger = e.person(t, po, "psid-s")
	e.now = fixture.Epoch.Add(6 * 24 * time.Hour)

	tag := func(ws, id string) string {
		tg, _, err := e.contacts.TagContact(ctx, nil, ws, id, "VIP", true, byAdm)
		if err != nil {
			t.Fatal(err)
		}
		return tg.ID
	}
	w.vip = tag(w.ws, w.a)
	tag(w.ws, w.c)
	w.otherVIP = tag(w.other, w.stranger)

	for _, x := range []struct{ ws, id, stage string }{{w.ws, w.a, "lead"}, {w.ws, w.b, "customer"}, {w.other, w.stranger, "lead"}} {
		if _, err := e.contacts.SetStage(ctx, nil, x.ws, x.id, x.stage, byAdm); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []struct{ ws, id string }{{w.ws, w.a}, {w.other, w.stranger}} {
		if _, err := e.contacts.SetSubscribed(ctx, nil, x.ws, x.id, true, byAdm); err != nil {
			t.Fatal(err)
		}
	}
	values := map[string]string{"city": "Phnom Penh", "age": "30", "birthday": "1990-05-01", "vip_flag": "yes",
		"phone": "+855 12 345 678", "email": "a@example.com", "plan": "gold"}
	for k, v := range values {
		e.set(t, w.ws, w.a, k, v)
		e.set(t, w.other, w.stranger, k, v)
	}
	e.set(t, w.ws, w.b, "city", "Siem Reap")
	e.set(t, w.ws, w.b, "age", "45")
	e.set(t, w.ws, w.b, "phone", "+855 98 765 432")
	e.set(t, w.ws, w.b, "vip_flag", "no")

	e.lastInbound(t, w.ws, p1, w.a, fixture.Epoch.Add(time.Hour))
	e.lastInbound(t, w.ws, p1, w.b, fixture.Epoch.Add(-10*24*time.Hour))
	e.lastInbound(t, w.other, po, w.stranger, fixture.Epoch.Add(time.Hour))
	return w
}

func one(field, op, value string) segment.Definition {
	return segment.Definition{Match: segment.MatchAll, Conditions: []segment.Condition{{Field: field, Op: op, Value: value}}}
}

// Promise P-25: every operator of every field type selects exactly the
// contacts it should, on both engines, and never another workspace's.
func TestEveryOperator(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		// now = Epoch + 6 days.
		cases := []struct {
			name string
			def  segment.Definition
			want []string
		}{
			{"tag has", one("tag", "has", w.vip), []string{w.a, w.c}},
			{"tag has_not", one("tag", "has_not", w.vip), []string{w.b}},
			{"stage is", one("stage", "is", "lead"), []string{w.a}},
			{"stage is_not", one("stage", "is_not", "lead"), []string{w.b, w.c}},
			{"stage is_empty", one("stage", "is_empty", ""), []string{w.c}},
			{"stage is_not_empty", one("stage", "is_not_empty", ""), []string{w.a, w.b}},
			{"subscribed true", one("subscribed", "is", "true"), []string{w.a}},
			{"subscribed false", one("subscribed", "is", "false"), []string{w.b, w.c}},
			{"channel is", one("channel", "is", w.ch1), []string{w.a, w.b}},
			{"channel is_not", one("channel", "is_not", w.ch1), []string{w.c}},
			{"channel_type is", one("channel_type", "is", "messenger"), []string{w.a, w.b, w.c}},
			{"channel_type is_not", one("channel_type", "is_not", "messenger"), nil},
			{"created before", one("created_at", "before", "2026-11-03"), []string{w.a}},
			{"created after", one("created_at", "after", "2026-11-03"), []string{w.b, w.c}},
			{"created after time", one("created_at", "after", "2026-11-04T09:00:00Z"), []string{w.c}},
			{"created within_days", one("created_at", "within_days", "2"), []string{w.c}},
			{"last interaction before", one("last_interaction", "before", "2026-11-01"), []string{w.b}},
			{"last interaction after", one("last_interaction", "after", "2026-11-01"), []string{w.a}},
			{"last interaction within_days", one("last_interaction", "within_days", "7"), []string{w.a}},
			{"text is_set", one("field:city", "is_set", ""), []string{w.a, w.b}},
			{"text is_not_set", one("field:city", "is_not_set", ""), []string{w.c}},
			{"text equals ignores case", one("field:city", "equals", "phnom PENH"), []string{w.a}},
			{"text not_equals", one("field:city", "not_equals", "Phnom Penh"), []string{w.b}},
			{"text contains", one("field:city", "contains", "REAP"), []string{w.b}},
			{"number equals", one("field:age", "equals", "30.0"), []string{w.a}},
			{"number not_equals", one("field:age", "not_equals", "30"), []string{w.b}},
			{"number greater_than", one("field:age", "greater_than", "40"), []string{w.b}},
			{"number less_than", one("field:age", "less_than", "40"), []string{w.a}},
			{"number Khmer digits", one("field:age", "less_than", "៤០"), []string{w.a}},
			{"date equals", one("field:birthday", "equals", "1990-05-01"), []string{w.a}},
			{"date not_equals", one("field:birthday", "not_equals", "1990-05-02"), []string{w.a}},
			{"date before", one("field:birthday", "before", "1995-01-01"), []string{w.a}},
			{"date after", one("field:birthday", "after", "1995-01-01"), nil},
			{"boolean is true", one("field:vip_flag", "is", "true"), []string{w.a}},
			{"boolean is false", one("field:vip_flag", "is", "false"), []string{w.b}},
			{"boolean is_not_set", one("field:vip_flag", "is_not_set", ""), []string{w.c}},
			{"phone equals", one("field:phone", "equals", "+85512345678"), []string{w.a}},
			{"phone contains", one("field:phone", "contains", "98765"), []string{w.b}},
			{"email equals", one("field:email", "equals", "A@example.com"), []string{w.a}},
			{"email contains", one("field:email", "contains", "EXAMPLE"), []string{w.a}},
			{"choice equals", one("field:plan", "equals", "GOLD"), []string{w.a}},
			{"choice not_equals", one("field:plan", "not_equals", "Silver"), []string{w.a}},
			{"all: SQL and Go", segment.Definition{Match: segment.MatchAll, Conditions: []segment.Condition{
				{Field: "tag", Op: "has", Value: w.vip}, {Field: "field:age", Op: "less_than", Value: "40"}}}, []string{w.a}},
			{"any: SQL or Go", segment.Definition{Match: segment.MatchAny, Conditions: []segment.Condition{
				{Field: "stage", Op: "is_empty"}, {Field: "field:city", Op: "contains", Value: "reap"}}}, []string{w.b, w.c}},
			{"any: Go only", segment.Definition{Match: segment.MatchAny, Conditions: []segment.Condition{
				{Field: "field:age", Op: "greater_than", Value: "40"}, {Field: "field:city", Op: "equals", Value: "phnom penh"}}}, []string{w.a, w.b}},
			{"all: SQL only", segment.Definition{Match: segment.MatchAll, Conditions: []segment.Condition{
				{Field: "subscribed", Op: "is", Value: "false"}, {Field: "channel", Op: "is", Value: w.ch1}}}, []string{w.b}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				for _, n := range []int{1, 2, 100} {
					got, err := e.all(t, w.ws, segment.Target{Definition: &tc.def}, n)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(sorted(tc.want...), sorted(got...)); diff != "" {
						t.Fatalf("page size %d: members (-want +got):\n%s", n, diff)
					}
				}
				cnt, err := e.seg.Count(ctx, w.ws, segment.Target{Definition: &tc.def})
				if err != nil {
					t.Fatal(err)
				}
				if cnt.N != len(tc.want) || !cnt.Exact {
					t.Errorf("count = %+v, want %d exact", cnt, len(tc.want))
				}
			})
		}
	})
}

// Promise P-03: another workspace's contacts never match, even with its
// own tag ID, and a saved segment is invisible to another workspace.
func TestWorkspaceIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		def := one("tag", "has", w.otherVIP)
		if _, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &def}, "", 10); !errors.Is(err, segment.ErrInvalid) {
			t.Errorf("another workspace's tag: err = %v, want ErrInvalid", err)
		}
		for _, def := range []segment.Definition{one("stage", "is", "lead"), one("field:city", "equals", "Phnom Penh"), one("subscribed", "is", "true")} {
			got, err := e.all(t, w.ws, segment.Target{Definition: &def}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{w.a}, got); diff != "" {
				t.Errorf("%+v (-want +got):\n%s", def.Conditions[0], diff)
			}
		}
		sg, err := e.seg.Create(ctx, admin, w.ws, "Leads", one("stage", "is", "lead"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.seg.Get(ctx, w.other, sg.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("get from another workspace: %v, want not found", err)
		}
		if _, err := e.seg.Members(ctx, w.other, segment.Target{SegmentID: sg.ID}, "", 10); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("members from another workspace: %v, want not found", err)
		}
		if err := e.seg.Delete(ctx, admin, w.other, sg.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("delete from another workspace: %v, want not found", err)
		}
	})
}

// Refused definitions never reach SQL and name the condition.
func TestRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		if err := e.contacts.ArchiveField(ctx, admin, w.ws, "plan"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			def  segment.Definition
		}{
			{"unknown field", one("name", "is", "x")},
			{"unknown custom field", one("field:nope", "is_set", "")},
			{"archived field", one("field:plan", "is_set", "")},
			{"empty custom key", one("field:", "is_set", "")},
			{"operator of another field", one("stage", "has", "lead")},
			{"unknown operator", one("stage", "like", "lead")},
			{"contains on a number", one("field:age", "contains", "3")},
			{"greater_than on text", one("field:city", "greater_than", "a")},
			{"before on a boolean", one("field:vip_flag", "before", "2026-01-01")},
			{"number type mismatch", one("field:age", "greater_than", "forty")},
			{"date type mismatch", one("field:birthday", "before", "yesterday")},
			{"boolean type mismatch", one("field:vip_flag", "is", "maybe")},
			{"phone without country", one("field:phone", "equals", "012345678")},
			{"choice not offered", one("field:plan", "equals", "Bronze")},
			{"missing operand", one("field:city", "equals", "")},
			{"unknown tag", one("tag", "has", "no-such-tag")},
			{"subscribed not boolean", one("subscribed", "is", "yes please")},
			{"unknown channel type", one("channel_type", "is", "fax")},
			{"within_days zero", one("created_at", "within_days", "0")},
			{"within_days huge", one("last_interaction", "within_days", "99999")},
			{"bad date", one("created_at", "before", "2026-13-01")},
			{"stage is without stage", one("stage", "is", "")},
			{"is_empty with a value", one("stage", "is_empty", "lead")},
			{"bad match", segment.Definition{Match: "some", Conditions: []segment.Condition{{Field: "stage", Op: "is_empty"}}}},
			{"no conditions", segment.Definition{Match: segment.MatchAll}},
			{"too many conditions", segment.Definition{Match: segment.MatchAll, Conditions: make([]segment.Condition, segment.MaxConditions+1)}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &tc.def}, "", 10)
				if !errors.Is(err, segment.ErrInvalid) {
					t.Fatalf("members: err = %v, want ErrInvalid", err)
				}
				if len(tc.def.Conditions) == 1 && tc.def.Match == segment.MatchAll && !strings.Contains(err.Error(), "condition 0") {
					t.Errorf("error %q does not name the condition", err)
				}
				if _, err := e.seg.Create(ctx, admin, w.ws, "S "+tc.name, tc.def); !errors.Is(err, segment.ErrInvalid) {
					t.Errorf("create: err = %v, want ErrInvalid", err)
				}
			})
		}
		if _, err := e.seg.Members(ctx, w.ws, segment.Target{}, "", 10); !errors.Is(err, segment.ErrInvalid) {
			t.Errorf("empty target: %v", err)
		}
	})
}

// J-7 payloads (Chatwoot CVE-2025-21628, CVE-2026-44706) as values,
// operators and field names are refused or bound: they match nothing and
// change nothing.
func TestInjectionPayloads(t *testing.T) {
	payloads := []string{
		`' OR 1=1--`,
		`1); SELECT pg_sleep(5)--`,
		`'; DROP TABLE contacts; --`,
		`" OR ""="`,
		`x' UNION SELECT id FROM contacts --`,
		`?`,
		`$1`,
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		for _, p := range payloads {
			// As values of operators that bind them: nobody matches.
			for _, def := range []segment.Definition{
				one("stage", "is", p), one("channel", "is", p), one("field:city", "equals", p), one("field:city", "contains", p),
			} {
				got, err := e.all(t, w.ws, segment.Target{Definition: &def}, 10)
				if err != nil {
					t.Errorf("value %q in %+v: %v", p, def.Conditions[0], err)
					continue
				}
				if len(got) != 0 {
					t.Errorf("value %q in %+v matched %v", p, def.Conditions[0], got)
				}
			}
			// Bound but with a negation: everybody with a stage, exactly.
			def := one("stage", "is_not", p)
			if got, err := e.all(t, w.ws, segment.Target{Definition: &def}, 10); err != nil || len(got) != 3 {
				t.Errorf("is_not %q = %v, %v; want the three contacts", p, got, err)
			}
			// As values that must parse, operators and field names: refused.
			for _, def := range []segment.Definition{
				one("tag", "has", p), one("created_at", "before", p), one("last_interaction", "within_days", p),
				one("field:age", "greater_than", p), one("subscribed", "is", p), one("channel_type", "is", p),
				one("stage", p, "lead"), one("field:city", p, "x"),
				one(p, "is", "lead"), one("field:"+p, "is_set", ""), one("stage "+p, "is", "lead"),
			} {
				if _, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &def}, "", 10); !errors.Is(err, segment.ErrInvalid) {
					t.Errorf("%+v: err = %v, want ErrInvalid", def.Conditions[0], err)
				}
			}
			// As a cursor: bound.
			all := one("channel_type", "is", "messenger")
			if _, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &all}, p, 10); err != nil {
				t.Errorf("cursor %q: %v", p, err)
			}
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM contacts`).Scan(ctx, &n); err != nil || n != 4 {
			t.Fatalf("contacts after the payloads: %d, %v", n, err)
		}
	})
}

func TestSegmentCRUD(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		def := one("stage", "is", "lead")
		sg, err := e.seg.Create(ctx, admin, w.ws, "Hot leads", def)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.seg.Create(ctx, admin, w.ws, "HOT LEADS", def); !errors.Is(err, segment.ErrExists) || !errors.Is(err, db.ErrConflict) {
			t.Errorf("same name: %v, want ErrExists", err)
		}
		if _, err := e.seg.Create(ctx, admin, w.other, "Hot leads", def); err != nil {
			t.Errorf("same name in another workspace: %v", err)
		}
		if _, err := e.seg.Create(ctx, admin, w.ws, "  ", def); !errors.Is(err, segment.ErrInvalid) {
			t.Errorf("blank name: %v", err)
		}
		got, err := e.seg.Get(ctx, w.ws, sg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sg, got); diff != "" {
			t.Errorf("get (-created +got):\n%s", diff)
		}
		page, err := e.seg.Members(ctx, w.ws, segment.Target{SegmentID: sg.ID}, "", 10)
		if err != nil || !cmp.Equal(page.IDs, []string{w.a}) {
			t.Errorf("members of the saved segment = %+v, %v", page, err)
		}
		other, err := e.seg.Create(ctx, admin, w.ws, "Customers", one("stage", "is", "customer"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.seg.Update(ctx, admin, w.ws, other.ID, "hot leads", def); !errors.Is(err, segment.ErrExists) {
			t.Errorf("rename onto another: %v", err)
		}
		up, err := e.seg.Update(ctx, admin, w.ws, sg.ID, "Leads (any stage)", one("stage", "is_not_empty", ""))
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Leads (any stage)" || up.Definition.Conditions[0].Op != "is_not_empty" || up.UpdatedBy != "user:u-admin" {
			t.Errorf("updated = %+v", up)
		}
		list, err := e.seg.List(ctx, w.ws)
		if err != nil || len(list) != 2 || list[0].Name != "Customers" {
			t.Errorf("list = %+v, %v", list, err)
		}
		if err := e.seg.Delete(ctx, admin, w.ws, sg.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.seg.Members(ctx, w.ws, segment.Target{SegmentID: sg.ID}, "", 10); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("members of a deleted segment: %v", err)
		}
		var actions []string
		if err := d.R.NewRaw(`SELECT action FROM audit_log WHERE workspace_id = ? AND target_type = 'segment' ORDER BY created_at, id`, w.ws).Scan(ctx, &actions); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"segment.create", "segment.create", "segment.update", "segment.delete"}, actions); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestParseDefinition(t *testing.T) {
	d, err := segment.ParseDefinition([]byte(`{"match":"any","conditions":[{"field":"subscribed","op":"is","value":true},{"field":"created_at","op":"within_days","value":30}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := segment.Definition{Match: segment.MatchAny, Conditions: []segment.Condition{
		{Field: "subscribed", Op: "is", Value: "true"}, {Field: "created_at", Op: "within_days", Value: "30"}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		`{"match":"all","conditions":[{"field":"stage","op":"is","value":{"$ne":1}}]}`,
		`{"match":"all","conditions":[{"field":"stage","op":"is","value":["a"]}]}`,
		`{"match":"all","conditions":[],"sql":"1=1"}`,
		`{"match":"all","conditions":[]} {}`,
		`not json`,
	} {
		if _, err := segment.ParseDefinition([]byte(bad)); !errors.Is(err, segment.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", bad, err)
		}
	}
}

// A contact created without a channel has none: it matches the negative
// channel conditions only.
func TestChannelLessContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		lone, err := e.contacts.Create(ctx, nil, w.ws, contact.NewContact{FirstName: "Lone", By: byAdm})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			def  segment.Definition
			want []string
		}{
			{one("channel", "is", w.ch1), []string{w.a, w.b}},
			{one("channel", "is_not", w.ch1), []string{w.c, lone.ID}},
			{one("channel_type", "is", "messenger"), []string{w.a, w.b, w.c}},
			{one("channel_type", "is_not", "messenger"), []string{lone.ID}},
			{one("last_interaction", "before", "2030-01-01"), []string{w.a, w.b}},
		}
		for _, tc := range cases {
			got, err := e.all(t, w.ws, segment.Target{Definition: &tc.def}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sorted(tc.want...), sorted(got...)); diff != "" {
				t.Errorf("%+v (-want +got):\n%s", tc.def.Conditions[0], diff)
			}
		}
	})
}

// With conditions on sealed values a call opens a bounded number of
// candidates: pages may come back short with a cursor, and paging on
// still finds every member exactly once.
func TestScanBudget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		segment.SetScanLimit(e.seg, 1)
		def := one("field:age", "greater_than", "0") // a and b; every candidate has an age
		p, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &def}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.IDs) != 1 || p.NextCursor == "" {
			t.Fatalf("first page = %+v, want one member and a cursor", p)
		}
		got, err := e.all(t, w.ws, segment.Target{Definition: &def}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sorted(w.a, w.b), sorted(got...)); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
		// Ages of a and b: only a is under 40, so the scan of b comes back
		// empty-handed but with a cursor.
		def = one("field:age", "less_than", "40")
		first, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &def}, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &def}, first.NextCursor, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := append(first.IDs, second.IDs...); !cmp.Equal(got, []string{w.a}) {
			t.Errorf("pages = %+v, %+v", first, second)
		}
	})
}

// A saved segment's definition is plain JSON outside erasure, so Create
// and Update refuse an exact match (equals, not_equals) on an e-mail or
// phone field, naming the condition; contains on them, exact matches on
// other fields, and an unsaved preview through Members and Count are
// still fine.
func TestSavedSegmentNamesNoPerson(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		w := build(t, e)
		ok, err := e.seg.Create(ctx, admin, w.ws, "Gmail", one("field:email", "contains", "@example.com"))
		if err != nil {
			t.Fatalf("contains on e-mail: %v", err)
		}
		for _, c := range []struct{ field, op, value string }{
			{"field:email", "equals", "a@example.com"},
			{"field:email", "not_equals", "a@example.com"},
			{"field:phone", "equals", "+855 12 345 678"},
			{"field:phone", "not_equals", "+855 12 345 678"},
		} {
			t.Run(c.field+" "+c.op, func(t *testing.T) {
				def := segment.Definition{Match: segment.MatchAll, Conditions: []segment.Condition{
					{Field: "stage", Op: "is", Value: "lead"}, {Field: c.field, Op: c.op, Value: c.value}}}
				_, err := e.seg.Create(ctx, admin, w.ws, "One person", def)
				if !errors.Is(err, segment.ErrInvalid) || !strings.Contains(err.Error(), "condition 1: Saved segments cannot name one person's e-mail or phone") {
					t.Errorf("create: %v, want ErrInvalid naming condition 1", err)
				}
				if _, err := e.seg.Update(ctx, admin, w.ws, ok.ID, "Gmail", def); !errors.Is(err, segment.ErrInvalid) {
					t.Errorf("update: %v, want ErrInvalid", err)
				}
				if _, err := e.seg.Members(ctx, w.ws, segment.Target{Definition: &def}, "", 10); err != nil {
					t.Errorf("preview members: %v", err)
				}
				if _, err := e.seg.Count(ctx, w.ws, segment.Target{Definition: &def}); err != nil {
					t.Errorf("preview count: %v", err)
				}
			})
		}
		if _, err := e.seg.Create(ctx, admin, w.ws, "Phnom Penh", one("field:city", "equals", "Phnom Penh")); err != nil {
			t.Errorf("equals on a text field: %v", err)
		}
		got, err := e.seg.Get(ctx, w.ws, ok.ID)
		if err != nil || got.Definition.Conditions[0].Op != "contains" {
			t.Errorf("refused updates changed the segment: %+v, %v", got, err)
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM segments WHERE workspace_id = ? AND (definition LIKE '%a@example.com%' OR definition LIKE '%345 678%')`, w.ws).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("%d saved definitions name a person (%v)", n, err)
		}
	})
}
