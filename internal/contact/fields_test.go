package contact_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

var admin = audit.Actor{UserID: "user-admin"}

// define defines a field or fails the test.
func (e *env) define(t *testing.T, ws, key string, spec contact.FieldSpec) contact.Field {
	t.Helper()
	f, err := e.store.DefineField(context.Background(), admin, ws, key, spec)
	if err != nil {
		t.Fatalf("define %s: %v", key, err)
	}
	return f
}

// wantInvalid fails unless err carries a *validate.Error naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	v, ok := validate.As(err)
	if !ok || v.Field != field {
		t.Errorf("err = %v, want a *validate.Error naming %q", err, field)
	}
}

// auditActions lists the workspace's audit actions on fields and tags,
// oldest first (fixtures audit channel connections too).
func auditActions(t *testing.T, d *db.DB, ws string) []string {
	t.Helper()
	entries, err := audit.List(context.Background(), d, audit.Filter{WorkspaceID: ws, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		if a := entries[i].Action; strings.HasPrefix(a, "contact_field.") || strings.HasPrefix(a, "tag.") {
			out = append(out, a)
		}
	}
	return out
}

// Promise P-20: businesses define the custom fields flows store answers in.
func TestDefineField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()

		city := e.define(t, ws, "city", contact.FieldSpec{Label: "  City ", Type: contact.FieldChoice, Choices: []string{" Phnom Penh", "Siem Reap "}})
		e.now = e.now.Add(time.Minute)
		phone := e.define(t, ws, "phone_2", contact.FieldSpec{Label: "Second phone", Type: contact.FieldPhone})
		if city.ID == "" || city.Label != "City" || city.WorkspaceID != ws || !city.CreatedAt.Equal(fixture.Epoch) ||
			!cmp.Equal(city.Choices, []string{"Phnom Penh", "Siem Reap"}) || city.Archived() {
			t.Errorf("DefineField = %+v", city)
		}
		if len(phone.Choices) != 0 {
			t.Errorf("a phone field has choices %v", phone.Choices)
		}
		got, err := e.store.Fields(ctx, ws, false)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]contact.Field{city, phone}, got); diff != "" {
			t.Errorf("Fields (-want +got):\n%s", diff)
		}
		if f, err := e.store.FieldByKey(ctx, ws, "city"); err != nil || !cmp.Equal(f, city) {
			t.Errorf("FieldByKey = %+v, %v", f, err)
		}
		if _, err := e.store.FieldByKey(ctx, ws, "nope"); !errors.Is(err, contact.ErrNoSuchField) || !errors.Is(err, db.ErrNotFound) {
			t.Errorf("FieldByKey of an unknown key: %v", err)
		}

		// A key is defined once per workspace; another workspace may reuse it.
		if _, err := e.store.DefineField(ctx, admin, ws, "city", contact.FieldSpec{Label: "Town", Type: contact.FieldText}); !errors.Is(err, contact.ErrFieldExists) || !errors.Is(err, db.ErrConflict) {
			t.Errorf("duplicate key: %v, want ErrFieldExists", err)
		}
		if _, err := e.store.DefineField(ctx, admin, e.workspace(t), "city", contact.FieldSpec{Label: "City", Type: contact.FieldText}); err != nil {
			t.Errorf("the same key in another workspace: %v", err)
		}
		if diff := cmp.Diff([]string{contact.ActionFieldDefine, contact.ActionFieldDefine}, auditActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestDefineFieldRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		text := contact.FieldSpec{Label: "Label", Type: contact.FieldText}
		tests := []struct {
			name, key string
			spec      contact.FieldSpec
			field     string
		}{
			{"empty key", "", text, "key"},
			{"key starting with a digit", "1city", text, "key"},
			{"upper-case key", "City", text, "key"},
			{"key with a dash", "home-city", text, "key"},
			{"key with a space", "home city", text, "key"},
			{"key too long", "a" + strings.Repeat("b", 40), text, "key"},
			{"reserved key", "first_name", text, "key"},
			{"empty label", "a", contact.FieldSpec{Label: "  ", Type: contact.FieldText}, "label"},
			{"label too long", "a", contact.FieldSpec{Label: strings.Repeat("x", contact.MaxFieldLabel+1), Type: contact.FieldText}, "label"},
			{"label with a line break", "a", contact.FieldSpec{Label: "a\nb", Type: contact.FieldText}, "label"},
			{"unknown type", "a", contact.FieldSpec{Label: "A", Type: "money"}, "type"},
			{"choice without choices", "a", contact.FieldSpec{Label: "A", Type: contact.FieldChoice}, "choices"},
			{"choices on a text field", "a", contact.FieldSpec{Label: "A", Type: contact.FieldText, Choices: []string{"x"}}, "choices"},
			{"empty choice", "a", contact.FieldSpec{Label: "A", Type: contact.FieldChoice, Choices: []string{"x", " "}}, "choices"},
			{"duplicate choice", "a", contact.FieldSpec{Label: "A", Type: contact.FieldChoice, Choices: []string{"Yes", "YES"}}, "choices"},
			{"choice too long", "a", contact.FieldSpec{Label: "A", Type: contact.FieldChoice, Choices: []string{strings.Repeat("x", contact.MaxChoice+1)}}, "choices"},
			{"too many choices", "a", contact.FieldSpec{Label: "A", Type: contact.FieldChoice, Choices: manyChoices(contact.MaxChoices + 1)}, "choices"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.store.DefineField(context.Background(), admin, ws, tt.key, tt.spec)
				wantInvalid(t, err, tt.field)
			})
		}
		if got, err := e.store.Fields(context.Background(), ws, true); err != nil || len(got) != 0 {
			t.Errorf("refused definitions left fields %+v, %v", got, err)
		}
		if got := auditActions(t, d, ws); len(got) != 0 {
			t.Errorf("refused definitions were audited: %v", got)
		}
	})
}

func manyChoices(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "choice " + strings.Repeat("i", i+1)
	}
	return out
}

func TestUpdateField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		c, _ := e.upsert(t, e.page(t, ws, "p-u"), "psid-u")
		e.define(t, ws, "size", contact.FieldSpec{Label: "Size", Type: contact.FieldText})

		// No values yet: the type may change.
		e.now = e.now.Add(time.Hour)
		f, err := e.store.UpdateField(ctx, admin, ws, "size", contact.FieldSpec{Label: "T-shirt size", Type: contact.FieldChoice, Choices: []string{"S", "M", "L"}})
		if err != nil || f.Type != contact.FieldChoice || f.Label != "T-shirt size" || !f.UpdatedAt.Equal(e.now) {
			t.Fatalf("UpdateField = %+v, %v", f, err)
		}
		if _, err := e.store.SetField(ctx, nil, ws, c.ID, "size", "m", contact.SetOptions{By: byAgent}); err != nil {
			t.Fatal(err)
		}

		// With a value, the type is fixed and a refused update changes nothing.
		_, err = e.store.UpdateField(ctx, admin, ws, "size", contact.FieldSpec{Label: "Size", Type: contact.FieldText})
		if !errors.Is(err, contact.ErrFieldInUse) {
			t.Errorf("type change with values: %v, want ErrFieldInUse", err)
		}
		if got, _ := e.store.FieldByKey(ctx, ws, "size"); got.Label != "T-shirt size" || got.Type != contact.FieldChoice {
			t.Errorf("a refused update changed the field: %+v", got)
		}

		// Choices may change: the stored answer stays, new ones follow the
		// new list.
		if _, err := e.store.UpdateField(ctx, admin, ws, "size", contact.FieldSpec{Label: "Size", Type: contact.FieldChoice, Choices: []string{"S", "L", "XL"}}); err != nil {
			t.Fatal(err)
		}
		if vals, err := e.store.FieldValues(ctx, ws, c.ID); err != nil || vals["size"].Text != "M" {
			t.Errorf("value after its choice was removed = %+v, %v", vals, err)
		}
		_, err = e.store.SetField(ctx, nil, ws, c.ID, "size", "M", contact.SetOptions{By: byAgent})
		wantInvalid(t, err, "size")

		if _, err := e.store.UpdateField(ctx, admin, ws, "nope", contact.FieldSpec{Label: "X", Type: contact.FieldText}); !errors.Is(err, contact.ErrNoSuchField) {
			t.Errorf("update of an unknown key: %v", err)
		}
		_, err = e.store.UpdateField(ctx, admin, ws, "size", contact.FieldSpec{Label: "", Type: contact.FieldText})
		wantInvalid(t, err, "label")
		want := []string{contact.ActionFieldDefine, contact.ActionFieldUpdate, contact.ActionFieldUpdate}
		if diff := cmp.Diff(want, auditActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestArchivedField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ctx := context.Background()
		c, _ := e.upsert(t, e.page(t, ws, "p-a"), "psid-a")
		e.define(t, ws, "budget", contact.FieldSpec{Label: "Budget", Type: contact.FieldNumber})
		if _, err := e.store.SetField(ctx, nil, ws, c.ID, "budget", "1500", contact.SetOptions{By: byAgent}); err != nil {
			t.Fatal(err)
		}

		if err := e.store.ArchiveField(ctx, admin, ws, "budget"); err != nil {
			t.Fatal(err)
		}
		if err := e.store.ArchiveField(ctx, admin, ws, "budget"); err != nil {
			t.Errorf("archiving twice: %v", err)
		}
		if got, _ := e.store.Fields(ctx, ws, false); len(got) != 0 {
			t.Errorf("Fields lists an archived field: %+v", got)
		}
		if got, _ := e.store.Fields(ctx, ws, true); len(got) != 1 || !got[0].Archived() {
			t.Errorf("Fields with archived = %+v", got)
		}
		if _, err := e.store.SetField(ctx, nil, ws, c.ID, "budget", "2000", contact.SetOptions{By: byAgent}); !errors.Is(err, contact.ErrFieldArchived) {
			t.Errorf("set an archived field: %v, want ErrFieldArchived", err)
		}
		if vals, _ := e.store.FieldValues(ctx, ws, c.ID); len(vals) != 0 {
			t.Errorf("values of an archived field are shown: %+v", vals)
		}
		// Its key stays taken.
		if _, err := e.store.DefineField(ctx, admin, ws, "budget", contact.FieldSpec{Label: "Budget", Type: contact.FieldText}); !errors.Is(err, contact.ErrFieldExists) {
			t.Errorf("redefining an archived key: %v", err)
		}

		// Restoring brings the value back, untouched by the refused set.
		if err := e.store.RestoreField(ctx, admin, ws, "budget"); err != nil {
			t.Fatal(err)
		}
		if vals, _ := e.store.FieldValues(ctx, ws, c.ID); vals["budget"].Text != "1500" {
			t.Errorf("restored value = %+v", vals)
		}

		// Clearing works on an archived field: removing personal data is
		// always allowed.
		if err := e.store.ArchiveField(ctx, admin, ws, "budget"); err != nil {
			t.Fatal(err)
		}
		if removed, err := e.store.ClearField(ctx, nil, ws, c.ID, "budget"); err != nil || !removed {
			t.Errorf("clear an archived field = %v, %v", removed, err)
		}
		if err := e.store.ArchiveField(ctx, admin, ws, "nope"); !errors.Is(err, contact.ErrNoSuchField) {
			t.Errorf("archive an unknown key: %v", err)
		}
		want := []string{contact.ActionFieldDefine, contact.ActionFieldArchive, contact.ActionFieldRestore, contact.ActionFieldArchive}
		if diff := cmp.Diff(want, auditActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}
