package dsr_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

// plant gives a contact canary values in every place an export reads:
// name, a field, a tag, a note, messages, a private note on the
// conversation and a consent record.
func (e *env) plant(t *testing.T, psid, canary string) string {
	t.Helper()
	cid, conv := e.person(t, psid, "message "+canary+"-msg1", "message "+canary+"-msg2")
	if _, err := e.timeline.AddNote(ctx, agent, e.ws, conv, canary+" conversation note"); err != nil {
		t.Fatal(err)
	}
	first, last := canary+"first", canary+"last"
	if err := e.contacts.SetName(ctx, nil, e.ws, cid, &first, &last); err != nil {
		t.Fatal(err)
	}
	if _, err := e.contacts.SetField(ctx, nil, e.ws, cid, "city", canary+"city", contact.SetOptions{By: byAg}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.contacts.TagContact(ctx, nil, e.ws, cid, canary+"tag", true, byAg); err != nil {
		t.Fatal(err)
	}
	if _, err := e.activity.AddNote(ctx, agent, e.ws, cid, canary+" note"); err != nil {
		t.Fatal(err)
	}
	must[dsr.Consent](t)(e.svc.RecordConsent(ctx, agent, e.ws, cid, dsr.NewConsent{ChannelID: e.ch.ID, State: dsr.ConsentGiven, Source: "form"}))
	return cid
}

// exportOf starts an export of cid and waits for the job to finish it.
func (e *env) exportOf(t *testing.T, cid, requestID string) dsr.Export {
	t.Helper()
	ex := must[dsr.Export](t)(e.svc.StartExport(ctx, agent, e.ws, cid, requestID))
	if ex.State != dsr.ExportPending {
		t.Fatalf("started as %s", ex.State)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := must[dsr.Export](t)(e.svc.GetExport(ctx, e.ws, ex.ID))
		if got.State == dsr.ExportDone || got.State == dsr.ExportFailed {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("export still %s", got.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Promise P-34 and security.md §3.O O-7: an export is a zip whose
// contact.json holds every message, field, tag, note (the private notes on
// its conversations too), activity entry and consent record of the contact — and nothing of another contact, and no
// secret (the page token). The archive is sealed at rest; it answers the
// export request it names.
func TestExportHoldsTheContactOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		if _, err := e.contacts.DefineField(ctx, agent, e.ws, "city", contact.FieldSpec{Label: "City", Type: contact.FieldText}); err != nil {
			t.Fatal(err)
		}
		a := e.plant(t, "p-alpha", "ALPHACANARY")
		e.plant(t, "p-beta", "BETACANARY")
		req := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: a, Kind: dsr.KindExport}))
		if err := e.jobs.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.jobs.Stop(ctx) })
		ex := e.exportOf(t, a, req.ID)
		if ex.State != dsr.ExportDone || ex.SizeBytes == 0 || !ex.ExpiresAt.Equal(ex.FinishedAt.Add(dsr.DefaultExportTTL)) {
			t.Fatalf("export %+v", ex)
		}
		if r := must[dsr.Request](t)(e.svc.Get(ctx, e.ws, req.ID)); r.State != dsr.StateCompleted {
			t.Errorf("the export request is %s", r.State)
		}
		// Sealed at rest: the stored archive holds no canary in clear.
		var sealed []byte
		if err := d.R.NewRaw(`SELECT archive FROM dsr_exports WHERE id = ?`, ex.ID).Scan(ctx, &sealed); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("ALPHACANARY")) || bytes.HasPrefix(sealed, []byte("PK")) {
			t.Fatal("the archive is stored in clear")
		}
		_, data, err := e.svc.Download(ctx, agent, e.ws, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		for _, f := range zr.File {
			if f.Name != "contact.json" {
				t.Errorf("unexpected file %s", f.Name)
				continue
			}
			rc, _ := f.Open()
			raw, _ = io.ReadAll(rc)
			rc.Close()
		}
		var doc dsr.Document
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("contact.json: %v", err)
		}
		text := string(raw)
		for _, want := range []string{"ALPHACANARYfirst", "ALPHACANARYlast", "ALPHACANARYcity", "ALPHACANARYtag", "ALPHACANARY note",
			"ALPHACANARY-msg1", "ALPHACANARY-msg2", "p-alpha", "ALPHACANARY conversation note"} {
			if !strings.Contains(text, want) {
				t.Errorf("the export lacks %q", want)
			}
		}
		for _, leak := range []string{"BETACANARY", "p-beta", "EAA-SECRET-TOKEN"} {
			if strings.Contains(text, leak) {
				t.Errorf("the export holds %q", leak)
			}
		}
		if doc.Format != dsr.FormatVersion || doc.Contact.ID != a || len(doc.Conversations) != 1 || len(doc.Conversations[0].Messages) != 2 ||
			doc.Conversations[0].Messages[0].Content.Text != "message ALPHACANARY-msg1" || len(doc.Consents) != 1 ||
			doc.Fields["city"] != "ALPHACANARYcity" || len(doc.Tags) != 1 || len(doc.Identities) != 1 || len(doc.Requests) != 1 ||
			len(doc.SharedWith) != 1 || doc.SharedWith[0] != "messenger" {
			t.Errorf("document %+v", doc)
		}
		// The private note on the conversation, with its author and time.
		if ns := doc.Conversations[0].Notes; len(ns) != 1 || ns[0].Text != "ALPHACANARY conversation note" || ns[0].Author != "user:"+agent.UserID ||
			ns[0].At.IsZero() || ns[0].Erased {
			t.Errorf("conversation notes %+v", ns)
		}
		// The access summary counts the same things.
		s := must[dsr.Summary](t)(e.svc.Summary(ctx, e.ws, a))
		counts := map[string]int{}
		for _, c := range s.Categories {
			counts[c.Name] = c.Count
		}
		if counts["Messages"] != 2 || counts["Notes"] != 2 || counts["Tags"] != 1 || counts["Consent records"] != 1 || s.Name != "ALPHACANARYfirst ALPHACANARYlast" {
			t.Errorf("summary %+v", s)
		}
		// Another workspace cannot reach the export.
		other := fixture.Workspace(t, d, e.kr)
		if _, _, err := e.svc.Download(ctx, agent, other, ex.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace downloaded: %v", err)
		}
		if _, err := e.svc.StartExport(ctx, agent, other, a, ""); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace exported: %v", err)
		}
		if _, err := e.svc.StartExport(ctx, agent, e.ws, a, req.ID); !errors.Is(err, dsr.ErrInvalid) {
			t.Errorf("exporting for a closed request: %v", err)
		}

		// O-7: the link expires and the file is deleted after the TTL.
		e.clock.Advance(dsr.DefaultExportTTL)
		if _, _, err := e.svc.Download(ctx, agent, e.ws, ex.ID); !errors.Is(err, dsr.ErrExpired) {
			t.Fatalf("download after expiry: %v", err)
		}
		if n := must[int](t)(e.svc.ExpireArchives(ctx, 100)); n != 1 {
			t.Fatalf("expired %d archives", n)
		}
		var left int
		if err := d.R.NewRaw(`SELECT count(*) FROM dsr_exports WHERE archive IS NOT NULL`).Scan(ctx, &left); err != nil || left != 0 {
			t.Fatalf("archives left: %d (%v)", left, err)
		}
		if got := must[dsr.Export](t)(e.svc.GetExport(ctx, e.ws, ex.ID)); got.State != dsr.ExportExpired || got.Downloads != 1 {
			t.Errorf("after expiry %+v", got)
		}
		// Retention (class exports) deletes the rows.
		if n := must[int](t)(e.svc.PurgeExports(ctx, e.ws, ex.CreatedAt, 10)); n != 0 {
			t.Errorf("purged %d exports not yet older than the cut", n)
		}
		if n := must[int](t)(e.svc.PurgeExports(ctx, e.ws, e.clock.Now(), 10)); n != 1 {
			t.Errorf("purged %d exports", n)
		}
	})
}

// Erasure (Art 17) goes through the ContactEraser and leaves the request's
// record naming nobody; the contact's exports, flags and consent records
// go with it. Only an open erasure request can be answered so.
func TestEraseThroughRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		cid, _ := e.person(t, "p-erase", "hi")
		must[dsr.Flags](t)(e.svc.SetFlags(ctx, agent, e.ws, cid, dsr.FlagsChange{Minor: ptr(true)}))
		must[dsr.Consent](t)(e.svc.RecordConsent(ctx, agent, e.ws, cid, dsr.NewConsent{State: dsr.ConsentGiven, Source: "form"}))
		// An export waits in the queue (not started here): a second is refused.
		must[dsr.Export](t)(e.svc.StartExport(ctx, agent, e.ws, cid, ""))
		if _, err := e.svc.StartExport(ctx, agent, e.ws, cid, ""); !errors.Is(err, dsr.ErrExportRunning) {
			t.Fatalf("a second export: %v", err)
		}
		access := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindAccess}))
		if _, err := e.svc.Erase(ctx, agent, e.ws, access.ID); !errors.Is(err, dsr.ErrInvalid) || len(e.eraser.calls) != 0 {
			t.Fatalf("erasing for an access request: %v (%d calls)", err, len(e.eraser.calls))
		}
		erase := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindErasure}))
		other := fixture.Workspace(t, d, e.kr)
		if _, err := e.svc.Erase(ctx, agent, other, erase.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another workspace erased: %v", err)
		}
		r := must[dsr.Request](t)(e.svc.Erase(ctx, agent, e.ws, erase.ID))
		if r.State != dsr.StateCompleted || len(e.eraser.calls) != 1 || e.eraser.calls[0] != cid {
			t.Fatalf("after erasing: %+v, calls %v", r, e.eraser.calls)
		}
		for _, id := range []string{erase.ID, access.ID} {
			if got := must[dsr.Request](t)(e.svc.Get(ctx, e.ws, id)); got.ContactID != "" {
				t.Errorf("request %s still names the contact", id)
			}
		}
		for _, table := range []string{"contact_privacy", "contact_consents", "dsr_exports"} {
			var n int
			if err := d.R.NewRaw(`SELECT count(*) FROM `+table+` WHERE contact_id = ?`, cid).Scan(ctx, &n); err != nil || n != 0 {
				t.Errorf("%s keeps %d rows (%v)", table, n, err)
			}
		}
		if _, err := e.svc.Erase(ctx, agent, e.ws, erase.ID); !errors.Is(err, dsr.ErrInvalid) {
			t.Errorf("erasing twice: %v", err)
		}
	})
}

// Correction (Art 16) changes names and field values through package
// contact, all or nothing, and answers the correction request.
func TestCorrect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		if _, err := e.contacts.DefineField(ctx, agent, e.ws, "email", contact.FieldSpec{Label: "E-mail", Type: contact.FieldEmail}); err != nil {
			t.Fatal(err)
		}
		cid, _ := e.person(t, "p-correct", "hi")
		req := must[dsr.Request](t)(e.svc.Create(ctx, agent, e.ws, dsr.NewRequest{ContactID: cid, Kind: dsr.KindCorrection}))
		bad := dsr.Correction{FirstName: ptr("Sokha"), Fields: []contact.FieldChange{{Key: "email", Raw: "not an address"}}, RequestID: req.ID}
		if v, ok := validate.As(e.svc.Correct(ctx, agent, e.ws, cid, bad)); !ok || v.Field != "email" {
			t.Fatalf("bad e-mail: %v", v)
		}
		if c := must[contact.Contact](t)(e.contacts.Get(ctx, e.ws, cid)); c.FirstName == "Sokha" {
			t.Fatal("half a refused correction was applied")
		}
		if err := e.svc.Correct(ctx, agent, e.ws, cid, dsr.Correction{FirstName: ptr(strings.Repeat("x", 101))}); func() bool {
			v, ok := validate.As(err)
			return !ok || v.Field != "first_name"
		}() {
			t.Errorf("long name: %v", err)
		}
		if err := e.svc.Correct(ctx, agent, e.ws, cid, dsr.Correction{}); !errors.Is(err, dsr.ErrInvalid) {
			t.Errorf("nothing to correct: %v", err)
		}
		good := dsr.Correction{FirstName: ptr("Sokha"), LastName: ptr(""), Fields: []contact.FieldChange{{Key: "email", Raw: "sokha@example.com"}}, RequestID: req.ID}
		if err := e.svc.Correct(ctx, agent, e.ws, cid, good); err != nil {
			t.Fatal(err)
		}
		c := must[contact.Contact](t)(e.contacts.Get(ctx, e.ws, cid))
		vals := must[map[string]contact.Value](t)(e.contacts.FieldValues(ctx, e.ws, cid))
		if c.FirstName != "Sokha" || c.LastName != "" || vals["email"].Text != "sokha@example.com" {
			t.Fatalf("corrected %q %q %v", c.FirstName, c.LastName, vals)
		}
		if r := must[dsr.Request](t)(e.svc.Get(ctx, e.ws, req.ID)); r.State != dsr.StateCompleted {
			t.Errorf("request %s", r.State)
		}
		other := fixture.Workspace(t, d, e.kr)
		if err := e.svc.Correct(ctx, agent, other, cid, dsr.Correction{FirstName: ptr("X")}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another workspace corrected: %v", err)
		}
	})
}
