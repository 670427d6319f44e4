package csvio

import (
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var mixed = "\xEF\xBB\xBF" + `First name;Last name;E-mail;Phone;City;Age;Tags;Stage;Notes
Dara;Sok;dara@example.com;+855 12 345 678;Phnom Penh;30;VIP;lead;x
Bad;Phone;bad@example.com;12345;Siem Reap;40;;;
Unknown;Tag;u@example.com;;Kampot;20;Nope;;
Short;Row
Bin;Ary;b@example.com;;` + "\xff\xfe" + `;1;;;
Formula;Person;f@example.com;;'=1+1;5;vip;;
Neg;Number;n@example.com;;"Town; centre";'-12.5;;customer;
Long;Stage;l@example.com;;;;;` + strings.Repeat("s", 60) + `;
Bad;Age;a@example.com;;;forty;;;
`

var mixedMapping = Mapping{
	"First name": TargetFirstName, "Last name": TargetLastName, "E-mail": "field:email", "Phone": "field:phone",
	"City": "field:city", "Age": "field:age", "Tags": TargetTag, "Stage": TargetStage, "Notes": TargetSkip,
}

// Promise P-25: malformed rows are reported (line, column, message) and
// skipped, valid rows are created with their fields, tags and stage, and
// progress reaches the total.
func TestImportReportsAndSkipsBadRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		e.im.Batch = 3
		imp := e.start(t, ws, mixed, Options{Mapping: mixedMapping})
		want := Import{State: StateDone, Total: 9, Done: 9, Created: 3, Failed: 6}
		got := Import{State: imp.State, Total: imp.Total, Done: imp.Done, Created: imp.Created, Updated: imp.Updated, Failed: imp.Failed}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("progress (-want +got):\n%s", diff)
		}
		if imp.FinishedAt.IsZero() || imp.CreatedBy != "user:u-admin" {
			t.Errorf("import = %+v", imp)
		}
		rowErrs, err := e.im.RowErrors(ctx, ws, imp.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantErrs := []RowError{
			{Row: 3, Column: "Phone", Message: "Enter the phone number with its country code, like +855 12 345 678."},
			{Row: 4, Column: "Tags", Message: "The workspace has no such tag; create it in Settings → Tags, or let the import create tags."},
			{Row: 5, Column: "", Message: "The row has 2 cells; the header has 9."},
			{Row: 6, Column: "City", Message: "The cell is not valid UTF-8 text."},
			{Row: 9, Column: "Stage", Message: "Use at most 50 characters."},
			{Row: 10, Column: "Age", Message: "Enter a number, like 12 or 3.5."},
		}
		if diff := cmp.Diff(wantErrs, rowErrs); diff != "" {
			t.Errorf("row errors (-want +got):\n%s", diff)
		}

		people := e.people(t, ws)
		if len(people) != 3 {
			t.Fatalf("contacts = %v", people)
		}
		dara := people["Dara Sok"]
		if diff := cmp.Diff(map[string]string{"email": "dara@example.com", "phone": "+85512345678", "city": "Phnom Penh", "age": "30"},
			e.values(t, ws, dara.ID)); diff != "" {
			t.Errorf("Dara's values (-want +got):\n%s", diff)
		}
		if dara.Stage != "lead" || !cmp.Equal(e.tags(t, ws, dara.ID), []string{"VIP"}) || dara.ChannelID != "" {
			t.Errorf("Dara = %+v, tags %v", dara, e.tags(t, ws, dara.ID))
		}
		// The ' that neutralizes a formula in a spreadsheet is not data.
		if v := e.values(t, ws, people["Formula Person"].ID); v["city"] != "=1+1" {
			t.Errorf("formula person's city = %q", v["city"])
		}
		neg := people["Neg Number"]
		if v := e.values(t, ws, neg.ID); v["age"] != "-12.5" || v["city"] != "Town; centre" || neg.Stage != "customer" {
			t.Errorf("neg = %+v, %v", neg, v)
		}

		// The report: refused rows with their cells, formula-safe.
		var b strings.Builder
		if err := e.im.Report(ctx, ws, imp.ID, &b); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll() // every row as wide as the header
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 7 || recs[0][0] != "row" || recs[0][3] != "First name" {
			t.Fatalf("report = %q", recs)
		}
		if diff := cmp.Diff([]string{"3", "Phone", "Enter the phone number with its country code, like +855 12 345 678.",
			"Bad", "Phone", "bad@example.com", "12345", "Siem Reap", "40", "", "", ""}, recs[1]); diff != "" {
			t.Errorf("report row (-want +got):\n%s", diff)
		}

		// The sealed file is gone; start and finish are audited.
		var files int
		if err := d.R.NewRaw(`SELECT count(*) FROM contact_imports WHERE file IS NOT NULL`).Scan(ctx, &files); err != nil || files != 0 {
			t.Errorf("files kept: %d, %v", files, err)
		}
		var actions []string
		if err := d.R.NewRaw(`SELECT action FROM audit_log WHERE target_type = 'contact_import' ORDER BY created_at, id`).Scan(ctx, &actions); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{ActionImportStart, ActionImportFinish}, actions); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
		// Another workspace sees nothing of it.
		other := e.workspace(t)
		if _, err := e.im.Status(ctx, other, imp.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("status from another workspace: %v", err)
		}
		if err := e.im.Report(ctx, other, imp.ID, &b); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("report from another workspace: %v", err)
		}
		if rows, err := e.im.RowErrors(ctx, other, imp.ID, 0, 0); err != nil || len(rows) != 0 {
			t.Errorf("row errors from another workspace: %v, %v", rows, err)
		}
	})
}

// With CreateTags an unknown tag is created rather than refusing the row.
// A row refused half-way (its contact created, then a tag refused) leaves
// nothing behind: each row runs in a savepoint.
func TestImportCreatesTags(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		data := "name,tags\nDara,\"New, vip | Other\"\nHalf,Fine;" + strings.Repeat("t", 60) + "\n" + strings.Repeat("n", 101) + ",x\n"
		imp := e.start(t, ws, data, Options{Mapping: Mapping{"name": TargetFirstName, "tags": TargetTag}, CreateTags: true})
		if imp.Created != 1 || imp.Failed != 2 {
			t.Fatalf("import = %+v", imp)
		}
		people := e.people(t, ws)
		if len(people) != 1 {
			t.Fatalf("contacts = %v; the half-done row left its contact", people)
		}
		got := e.tags(t, ws, people["Dara"].ID)
		if diff := cmp.Diff([]string{"New", "Other", "VIP"}, got); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if _, err := e.contacts.TagByName(ctx, ws, "Fine"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("the refused row's first tag was kept: %v", err)
		}
		rowErrs, err := e.im.RowErrors(ctx, ws, imp.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []RowError{{Row: 3, Column: "tags", Message: "Use at most 50 characters."}, {Row: 4, Column: "name", Message: "Use at most 100 characters."}}
		if diff := cmp.Diff(want, rowErrs); diff != "" {
			t.Errorf("row errors (-want +got):\n%s", diff)
		}
	})
}

// A job retried after a crash resumes after the last committed batch and
// creates nobody twice; a finished import is not run again.
func TestImportResumesWithoutDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		var b strings.Builder
		b.WriteString("first,email\n")
		for i := range 7 {
			b.WriteString("P" + string(rune('a'+i)) + ",p" + string(rune('a'+i)) + "@example.com\n")
		}
		imp, err := e.im.Start(ctx, admin, ws, []byte(b.String()), Options{Mapping: Mapping{"first": TargetFirstName, "email": "field:email"}})
		if err != nil {
			t.Fatal(err)
		}
		e.im.Batch = 2
		crash, cancel := context.WithCancel(ctx)
		e.im.afterBatch = func(done int) {
			if done == 4 {
				cancel() // the process dies after the second batch
			}
		}
		if err := e.im.Process(crash, ws, imp.ID); err == nil {
			t.Fatal("the interrupted run reported success")
		}
		mid, err := e.im.Status(ctx, ws, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if mid.State != StateRunning || mid.Done != 4 || mid.Created != 4 {
			t.Fatalf("after the crash: %+v", mid)
		}
		e.im.afterBatch = nil
		for range 2 { // the retry, then a duplicate delivery
			if err := e.im.Process(ctx, ws, imp.ID); err != nil {
				t.Fatal(err)
			}
		}
		end, err := e.im.Status(ctx, ws, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if end.State != StateDone || end.Done != 7 || end.Created != 7 || end.Failed != 0 {
			t.Errorf("after the retry: %+v", end)
		}
		if n := len(e.people(t, ws)); n != 7 {
			t.Errorf("%d contacts, want 7", n)
		}
	})
}

// Rows matching an existing contact's e-mail or phone update it.
func TestImportDedupe(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		other := e.workspace(t)
		old := e.person(t, ws, "Old", "Timer", map[string]string{"email": "old@example.com", "phone": "+85512345678"})
		e.person(t, other, "Stranger", "", map[string]string{"email": "new@example.com", "phone": "+85598765432"})

		t.Run("email", func(t *testing.T) {
			imp := e.start(t, ws, "first,email,city\nRenamed,OLD@example.com,Kep\nNew,new@example.com,Kampot\nNew again,new@example.com,Takeo\n",
				Options{Mapping: Mapping{"first": TargetFirstName, "email": "field:email", "city": "field:city"}, DedupeColumn: "email"})
			if imp.Created != 1 || imp.Updated != 2 || imp.Failed != 0 {
				t.Fatalf("import = %+v", imp)
			}
			people := e.people(t, ws)
			if _, ok := people["Renamed"]; ok {
				t.Error("a matched contact was renamed")
			}
			if v := e.values(t, ws, old); v["city"] != "Kep" {
				t.Errorf("old contact's city = %q", v["city"])
			}
			if v := e.values(t, ws, people["New"].ID); v["city"] != "Takeo" {
				t.Errorf("the file's second row did not update the first's contact: %v", v)
			}
		})
		t.Run("phone", func(t *testing.T) {
			imp := e.start(t, ws, "phone,age\n012 345 678,41\n098 765 432,50\n",
				Options{Mapping: Mapping{"phone": "field:phone", "age": "field:age"}, DedupeColumn: "phone", Region: "KH"})
			if imp.Created != 1 || imp.Updated != 1 || imp.Failed != 0 {
				t.Fatalf("import = %+v", imp)
			}
			if v := e.values(t, ws, old); v["age"] != "41" {
				t.Errorf("old contact's age = %q", v["age"])
			}
		})
	})
}

func TestStartRefuses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		if err := e.contacts.ArchiveField(ctx, admin, ws, "age"); err != nil {
			t.Fatal(err)
		}
		file := "first,email,city,age\nA,a@example.com,X,1\n"
		cases := []struct {
			name string
			data string
			o    Options
		}{
			{"no rows", "first,email\n", Options{Mapping: Mapping{"first": TargetFirstName}}},
			{"nothing mapped", file, Options{Mapping: Mapping{"first": TargetSkip}}},
			{"unknown column", file, Options{Mapping: Mapping{"nope": TargetFirstName}}},
			{"unknown target", file, Options{Mapping: Mapping{"first": "password"}}},
			{"SQL as a target", file, Options{Mapping: Mapping{"first": "field:x' OR 1=1--"}}},
			{"unknown field", file, Options{Mapping: Mapping{"first": "field:nope"}}},
			{"archived field", file, Options{Mapping: Mapping{"age": "field:age"}}},
			{"two columns, one target", file, Options{Mapping: Mapping{"first": TargetFirstName, "city": TargetFirstName}}},
			{"dedupe on text", file, Options{Mapping: Mapping{"city": "field:city"}, DedupeColumn: "city"}},
			{"dedupe not mapped", file, Options{Mapping: Mapping{"first": TargetFirstName}, DedupeColumn: "email"}},
			{"bad region", file, Options{Mapping: Mapping{"first": TargetFirstName}, Region: "Cambodia"}},
			{"too large", file + strings.Repeat("x", MaxBytes), Options{Mapping: Mapping{"first": TargetFirstName}}},
			{"too many rows", "first\n" + strings.Repeat("a\n", MaxRows+1), Options{Mapping: Mapping{"first": TargetFirstName}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := e.im.Start(ctx, admin, ws, []byte(tc.data), tc.o); !errors.Is(err, ErrInvalid) {
					t.Errorf("err = %v, want ErrInvalid", err)
				}
			})
		}
		var n int
		if err := d.R.NewRaw(`SELECT count(*) FROM contact_imports`).Scan(ctx, &n); err != nil || n != 0 {
			t.Errorf("imports stored: %d, %v", n, err)
		}
	})
}

// The import runs as a durable job on a real queue, with progress
// readable while and after it runs.
func TestImportRunsAsJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		e.im.Register()
		if err := e.jobs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_ = e.jobs.Stop(stop)
		})
		imp, err := e.im.Start(ctx, admin, ws, []byte("first\nA\nB\nC\n"), Options{Mapping: Mapping{"first": TargetFirstName}})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := e.im.Status(ctx, ws, imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.State == StateDone {
				if st.Done != 3 || st.Created != 3 {
					t.Errorf("status = %+v", st)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the import job never finished: %+v", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The job's payload held IDs only.
		var payloads []string
		if err := d.R.NewRaw(`SELECT CAST(payload AS TEXT) FROM jobs`).Scan(ctx, &payloads); err != nil {
			t.Fatal(err)
		}
		for _, p := range payloads {
			if strings.Contains(p, "first") || strings.Contains(p, "A") {
				t.Errorf("job payload %q holds file content", p)
			}
		}
	})
}

func TestParse(t *testing.T) {
	p, err := Parse([]byte("\xEF\xBB\xBFname\tcity\nDara\tPhnom Penh, KH\nSok\tKep\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Preview{Headers: []string{"name", "city"}, Sample: [][]string{{"Dara", "Phnom Penh, KH"}, {"Sok", "Kep"}}, Rows: 2, Delimiter: "\t"}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	p, err = Parse([]byte("\"a;b\",c,d\n1,2,3\n"))
	if err != nil || p.Delimiter != "," || len(p.Headers) != 3 {
		t.Errorf("quoted delimiter = %+v, %v", p, err)
	}
	for _, bad := range []string{"", "a,,b\n", "a,A\n", "\xff\n1\n"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
}
