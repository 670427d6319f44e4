package contact_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// byPhone runs ByPhone or fails the test.
func (e *env) byPhone(t *testing.T, ws, e164 string) []string {
	t.Helper()
	ids, err := e.store.ByPhone(context.Background(), nil, ws, e164)
	if err != nil {
		t.Fatalf("by phone: %v", err)
	}
	return ids
}

// phoneRows counts the workspace's rows of the phone index.
func phoneRows(t *testing.T, d *db.DB, ws string) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(`SELECT count(*) FROM contact_phones WHERE workspace_id = ?`, ws).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sorted returns ids in order, as ByPhone gives them.
func sorted(ids ...string) []string {
	out := append([]string(nil), ids...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Promise P-28: a contact is found by any of its phone numbers, through a
// blind index that follows every set, change and clear of a phone field in
// the same transaction, and never across workspaces.
func TestPhoneIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws, other := e.workspace(t), e.workspace(t)
		ch := e.page(t, ws, "p-ph")
		a, _ := e.upsert(t, ch, "psid-a")
		b, _ := e.upsert(t, ch, "psid-b")
		c, _ := e.upsert(t, e.page(t, other, "p-other"), "psid-c")
		for _, w := range []string{ws, other} {
			e.define(t, w, "phone", contact.FieldSpec{Label: "Phone", Type: contact.FieldPhone})
			e.define(t, w, "mobile", contact.FieldSpec{Label: "Mobile", Type: contact.FieldPhone})
		}
		e.define(t, ws, "note", contact.FieldSpec{Label: "Note", Type: contact.FieldText})
		kh := contact.SetOptions{By: byAgent, Region: "KH"}
		const num, num2 = "+85512345678", "+85517999888"

		set := func(w, id, key, raw string) {
			t.Helper()
			if _, err := e.store.SetField(ctx, nil, w, id, key, raw, kh); err != nil {
				t.Fatalf("set %s: %v", key, err)
			}
		}
		set(ws, a.ID, "phone", "012 345 678")
		set(ws, b.ID, "mobile", "+855 12 345 678")
		set(other, c.ID, "phone", "012345678")
		set(ws, a.ID, "note", "+85517999888") // a text field is not a phone
		if got, want := e.byPhone(t, ws, num), sorted(a.ID, b.ID); !cmp.Equal(got, want) {
			t.Errorf("by phone = %v, want %v", got, want)
		}
		if got := e.byPhone(t, other, num); !cmp.Equal(got, []string{c.ID}) {
			t.Errorf("other workspace by phone = %v, want only its own contact", got)
		}
		if got := e.byPhone(t, ws, num2); len(got) != 0 {
			t.Errorf("a text field was indexed: %v", got)
		}

		// Changing a number moves the contact; clearing removes it.
		set(ws, a.ID, "phone", "017 999 888")
		if got := e.byPhone(t, ws, num); !cmp.Equal(got, []string{b.ID}) {
			t.Errorf("after the change, old number = %v, want [b]", got)
		}
		if got := e.byPhone(t, ws, num2); !cmp.Equal(got, []string{a.ID}) {
			t.Errorf("after the change, new number = %v, want [a]", got)
		}
		if _, err := e.store.ClearField(ctx, nil, ws, b.ID, "mobile"); err != nil {
			t.Fatal(err)
		}
		if got := e.byPhone(t, ws, num); len(got) != 0 {
			t.Errorf("after clearing = %v, want none", got)
		}

		// ApplyFields goes through the same path, all or nothing.
		err := e.store.ApplyFields(ctx, ws, b.ID, []contact.FieldChange{{Key: "mobile", Raw: "012 345 678"}, {Key: "phone", Raw: "not a number"}}, kh)
		if err == nil {
			t.Fatal("ApplyFields accepted a bad number")
		}
		if got := e.byPhone(t, ws, num); len(got) != 0 {
			t.Errorf("a refused ApplyFields left an index row: %v", got)
		}
		if err := e.store.ApplyFields(ctx, ws, b.ID, []contact.FieldChange{{Key: "mobile", Raw: "012 345 678"}}, kh); err != nil {
			t.Fatal(err)
		}
		if got := e.byPhone(t, ws, num); !cmp.Equal(got, []string{b.ID}) {
			t.Errorf("after ApplyFields = %v, want [b]", got)
		}
		if err := e.store.ApplyFields(ctx, ws, b.ID, []contact.FieldChange{{Key: "mobile", Clear: true}}, kh); err != nil {
			t.Fatal(err)
		}
		if got := e.byPhone(t, ws, num); len(got) != 0 {
			t.Errorf("after ApplyFields cleared = %v, want none", got)
		}

		// A rolled-back transaction leaves no index row.
		errBoom := errors.New("boom")
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := e.store.SetField(ctx, tx, ws, b.ID, "phone", "012 345 678", kh); err != nil {
				return err
			}
			if ids, err := e.store.ByPhone(ctx, tx, ws, num); err != nil || !cmp.Equal(ids, []string{b.ID}) {
				t.Errorf("inside the transaction by phone = %v, %v", ids, err)
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatal(err)
		}
		if got := e.byPhone(t, ws, num); len(got) != 0 {
			t.Errorf("a rolled-back set left an index row: %v", got)
		}

		// An archived field's numbers are hidden like its values.
		set(ws, b.ID, "mobile", "017 999 888")
		if err := e.store.ArchiveField(ctx, admin, ws, "mobile"); err != nil {
			t.Fatal(err)
		}
		if got := e.byPhone(t, ws, num2); !cmp.Equal(got, []string{a.ID}) {
			t.Errorf("with mobile archived = %v, want [a]", got)
		}

		// The index holds digests, never the numbers.
		dump := dbtest.DumpText(t, d)
		for _, s := range []string{num, num2, strings.TrimPrefix(num, "+"), "012345678"} {
			if strings.Contains(dump, s) {
				t.Errorf("the database holds %q in clear", s)
			}
		}

		// Deleting a contact deletes its index rows.
		before := phoneRows(t, d, ws)
		if _, err := d.W.NewRaw(`DELETE FROM contacts WHERE id = ?`, a.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if after := phoneRows(t, d, ws); after != before-1 {
			t.Errorf("index rows %d → %d after deleting a contact with one number", before, after)
		}
		if got := e.byPhone(t, ws, num2); len(got) != 0 {
			t.Errorf("a deleted contact is still found: %v", got)
		}
	})
}

// ReindexPhones indexes values stored before the index existed, once.
func TestReindexPhones(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ctx := context.Background()
		ws := e.workspace(t)
		ch := e.page(t, ws, "p-re")
		e.define(t, ws, "phone", contact.FieldSpec{Label: "Phone", Type: contact.FieldPhone})
		e.define(t, ws, "mobile", contact.FieldSpec{Label: "Mobile", Type: contact.FieldPhone})
		e.define(t, ws, "note", contact.FieldSpec{Label: "Note", Type: contact.FieldText})
		var ids []string
		for _, psid := range []string{"r1", "r2", "r3"} {
			c, _ := e.upsert(t, ch, psid)
			ids = append(ids, c.ID)
			for _, key := range []string{"phone", "mobile"} {
				if _, err := e.store.SetField(ctx, nil, ws, c.ID, key, "+85512345678", contact.SetOptions{By: byAgent}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.store.SetField(ctx, nil, ws, c.ID, "note", "+85512345678", contact.SetOptions{By: byAgent}); err != nil {
				t.Fatal(err)
			}
		}
		// As before migration 00023: values without index rows.
		if _, err := d.W.NewRaw(`DELETE FROM contact_phones`).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.byPhone(t, ws, "+85512345678"); len(got) != 0 {
			t.Fatalf("index not empty: %v", got)
		}
		n, err := e.store.ReindexPhones(ctx)
		if err != nil || n != 6 {
			t.Fatalf("reindex = %d, %v; want 6 (two phone fields of three contacts, no text field)", n, err)
		}
		if got := e.byPhone(t, ws, "+85512345678"); !cmp.Equal(got, sorted(ids...)) {
			t.Errorf("after reindex = %v, want %v", got, sorted(ids...))
		}
		if n, err := e.store.ReindexPhones(ctx); err != nil || n != 0 {
			t.Errorf("second reindex = %d, %v; want 0", n, err)
		}

		// Values whose key was destroyed (an erasure under way) cannot be
		// opened: they are skipped, and the pass still ends.
		if _, err := d.W.NewRaw(`DELETE FROM contact_phones`).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return e.kr.DestroyContactKey(ctx, tx, ws, ids[0])
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := e.store.ReindexPhones(ctx); err != nil || n != 4 {
			t.Errorf("reindex with one key destroyed = %d, %v; want 4", n, err)
		}
		if got := e.byPhone(t, ws, "+85512345678"); !cmp.Equal(got, sorted(ids[1:]...)) {
			t.Errorf("after reindex = %v, want %v", got, sorted(ids[1:]...))
		}
	})
}

// Normalizing is idempotent and refuses what is not a number without
// repeating it; ByPhone takes only E.164.
func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ raw, region, want string }{
		{"012 345 678", "KH", "+85512345678"},
		{"០១២ ៣៤៥ ៦៧៨", "KH", "+85512345678"},
		{"+855 (12) 345-678", "", "+85512345678"},
		{"+66 81 234 5678", "KH", "+66812345678"},
	} {
		got, err := contact.NormalizePhone(tc.raw, tc.region)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
			continue
		}
		if again, err := contact.NormalizePhone(got, ""); err != nil || again != got {
			t.Errorf("NormalizePhone is not idempotent on %q: %q, %v", got, again, err)
		}
	}
	for _, tc := range []struct{ raw, region string }{
		{"012 345 678", ""}, {"12", "KH"}, {"", "KH"}, {"call me 55512", "US"}, {"+85512345678 ext. 9", ""},
	} {
		_, err := contact.NormalizePhone(tc.raw, tc.region)
		if err == nil {
			t.Errorf("NormalizePhone(%q, %q) accepted it", tc.raw, tc.region)
			continue
		}
		wantInvalid(t, err, "phone")
		if len(tc.raw) > 4 && strings.Contains(err.Error(), tc.raw) {
			t.Errorf("error repeats the number: %v", err)
		}
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		for _, bad := range []string{"012345678", "+855 12 345 678", ""} {
			if _, err := e.store.ByPhone(context.Background(), nil, ws, bad); !errors.Is(err, contact.ErrNotE164) {
				t.Errorf("ByPhone(%q) = %v, want ErrNotE164", bad, err)
			}
		}
	})
}
