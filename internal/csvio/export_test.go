package csvio

import (
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+855": "'+855", "-3": "'-3", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"Dara": "Dara", "": "", "a=b": "a=b", "'=x": "'=x",
	} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
		if got := unneutralize(Neutralize(in)); got != in && in != "'=x" {
			t.Errorf("unneutralize(Neutralize(%q)) = %q", in, got)
		}
	}
}

// J-8 (Typebot CVE-2026-47705): an export neutralizes formulas, is
// workspace-scoped and audited, and imports back unchanged.
func TestExportRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		other := e.workspace(t)
		e.person(t, other, "Stranger", "", map[string]string{"city": "Elsewhere"})
		evil := e.person(t, ws, "=HYPERLINK(\"http://x\")", "@SUM(A1)", map[string]string{"city": "+855 city", "age": "-12.5", "email": "e@example.com"})
		plain := e.person(t, ws, "Dara", "Sok", map[string]string{"city": "Phnom Penh, KH", "phone": "+85512345678"})
		if _, _, err := e.contacts.TagContact(ctx, nil, ws, plain, "VIP", false, byAdm); err != nil {
			t.Fatal(err)
		}
		if _, err := e.contacts.SetStage(ctx, nil, ws, plain, "lead", byAdm); err != nil {
			t.Fatal(err)
		}

		var b strings.Builder
		n, err := e.ex.Export(ctx, admin, ws, ExportOptions{}, &b)
		if err != nil || n != 2 {
			t.Fatalf("export = %d, %v", n, err)
		}
		recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		wantHeader := []string{"id", "first_name", "last_name", "stage", "subscribed", "created_at", "tags", "field:email", "field:phone", "field:city", "field:age"}
		if diff := cmp.Diff(wantHeader, recs[0]); diff != "" {
			t.Fatalf("header (-want +got):\n%s", diff)
		}
		byID := map[string][]string{}
		for _, r := range recs[1:] {
			byID[r[0]] = r
		}
		if len(byID) != 2 {
			t.Fatalf("rows = %q (another workspace's contact exported?)", recs)
		}
		if diff := cmp.Diff([]string{evil, `'=HYPERLINK("http://x")`, "'@SUM(A1)", "", "false", "2026-11-02T09:00:00Z", "", "e@example.com", "", "'+855 city", "'-12.5"}, byID[evil]); diff != "" {
			t.Errorf("neutralized row (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{plain, "Dara", "Sok", "lead", "false", "2026-11-02T09:00:00Z", "VIP", "", "'+85512345678", "Phnom Penh, KH", ""}, byID[plain]); diff != "" {
			t.Errorf("plain row (-want +got):\n%s", diff)
		}

		// The export imports into another workspace as it was.
		copyWS := e.workspace(t)
		m := Mapping{"id": TargetSkip, "subscribed": TargetSkip, "created_at": TargetSkip, "tags": TargetTag}
		for _, h := range wantHeader[1:] {
			if _, ok := m[h]; !ok {
				m[h] = h
			}
		}
		imp := e.start(t, copyWS, b.String(), Options{Mapping: m})
		if imp.Created != 2 || imp.Failed != 0 {
			t.Fatalf("re-import = %+v", imp)
		}
		people := e.people(t, copyWS)
		back := people[`=HYPERLINK("http://x") @SUM(A1)`]
		if diff := cmp.Diff(map[string]string{"city": "+855 city", "age": "-12.5", "email": "e@example.com"}, e.values(t, copyWS, back.ID)); diff != "" {
			t.Errorf("round-tripped values (-want +got):\n%s", diff)
		}
		dara := people["Dara Sok"]
		if dara.Stage != "lead" || !cmp.Equal(e.tags(t, copyWS, dara.ID), []string{"VIP"}) || e.values(t, copyWS, dara.ID)["phone"] != "+85512345678" {
			t.Errorf("round-tripped Dara = %+v", dara)
		}

		// A segment's members only, chosen columns.
		sg, err := e.segs.Create(ctx, admin, ws, "Leads", segment.Definition{Match: segment.MatchAll,
			Conditions: []segment.Condition{{Field: "stage", Op: "is", Value: "lead"}}})
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if n, err := e.ex.Export(ctx, admin, ws, ExportOptions{SegmentID: sg.ID, Columns: []string{"first_name", "field:city"}}, &b); err != nil || n != 1 {
			t.Fatalf("segment export = %d, %v", n, err)
		}
		if b.String() != "first_name,field:city\nDara,\"Phnom Penh, KH\"\n" {
			t.Errorf("segment export = %q", b.String())
		}
		if _, err := e.ex.Export(ctx, admin, other, ExportOptions{SegmentID: sg.ID}, &b); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace's segment: %v", err)
		}
		for _, cols := range [][]string{{"password"}, {"field:nope"}, {"first_name", "first_name"}, {"first_name); DROP TABLE contacts;--"}} {
			if _, err := e.ex.Export(ctx, admin, ws, ExportOptions{Columns: cols}, &b); !errors.Is(err, ErrInvalid) {
				t.Errorf("columns %q: %v, want ErrInvalid", cols, err)
			}
		}
		var details []string
		if err := d.R.NewRaw(`SELECT details FROM audit_log WHERE workspace_id = ? AND action = ? ORDER BY created_at, id`, ws, ActionExport).Scan(ctx, &details); err != nil {
			t.Fatal(err)
		}
		if len(details) != 2 || !strings.Contains(details[1], sg.ID) || strings.Contains(strings.Join(details, ""), "Dara") {
			t.Errorf("export audit = %q", details)
		}
	})
}
