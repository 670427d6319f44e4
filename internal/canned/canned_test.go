package canned_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/canned"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
	"github.com/parleyhq/parley/internal/validate"
)

type env struct {
	d     *db.DB
	store *canned.Store
	now   time.Time
	agent audit.Actor
}

func setup(t *testing.T, d *db.DB) (*env, string) {
	e := &env{d: d, now: fixture.Epoch, agent: audit.Actor{UserID: "u1"}}
	e.store = canned.NewStore(d, func() time.Time { return e.now })
	kr, _ := fixture.Keyring(t, d, func() time.Time { return e.now })
	return e, fixture.Workspace(t, d, kr)
}

func (e *env) workspace(t *testing.T) string {
	kr, _ := fixture.Keyring(t, e.d, func() time.Time { return e.now })
	return fixture.Workspace(t, e.d, kr)
}

func (e *env) create(t *testing.T, ws, shortcut, title string) canned.Response {
	t.Helper()
	r, err := e.store.Create(context.Background(), e.agent, ws, canned.Input{Shortcut: shortcut, Title: title, Body: "Body of " + shortcut})
	if err != nil {
		t.Fatalf("create %s: %v", shortcut, err)
	}
	return r
}

func auditActions(t *testing.T, d *db.DB, ws string) []string {
	t.Helper()
	entries, err := audit.List(context.Background(), d, audit.Filter{WorkspaceID: ws, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "canned.") {
			out = append(out, en.Action+" "+string(en.Details))
		}
	}
	return out
}

func TestCreateGetUpdateDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e, ws := setup(t, d)
		ctx := context.Background()
		in := canned.Input{Shortcut: " /Thanks ", Title: "  Thank you  ", Body: "\nThanks {{contact.first_name|there}}!\nBye\n"}
		r, err := e.store.Create(ctx, e.agent, ws, in)
		if err != nil {
			t.Fatal(err)
		}
		want := canned.Response{ID: r.ID, WorkspaceID: ws, Shortcut: "thanks", Title: "Thank you",
			Body: "Thanks {{contact.first_name|there}}!\nBye", CreatedBy: "user:u1", CreatedAt: e.now, UpdatedAt: e.now}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("Create (-want +got):\n%s", diff)
		}
		for name, get := range map[string]func() (canned.Response, error){
			"Get":        func() (canned.Response, error) { return e.store.Get(ctx, ws, r.ID) },
			"ByShortcut": func() (canned.Response, error) { return e.store.ByShortcut(ctx, ws, "/THANKS") },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}

		e.now = e.now.Add(time.Hour)
		up, err := e.store.Update(ctx, audit.Actor{UserID: "u2"}, ws, r.ID, canned.Input{Shortcut: "thx", Title: "Thanks", Body: "Thank you!"})
		if err != nil {
			t.Fatal(err)
		}
		want.Shortcut, want.Title, want.Body, want.UpdatedAt = "thx", "Thanks", "Thank you!", e.now
		if diff := cmp.Diff(want, up); diff != "" {
			t.Errorf("Update (-want +got):\n%s", diff)
		}
		if got, err := e.store.Get(ctx, ws, r.ID); err != nil || !cmp.Equal(want, got) {
			t.Errorf("Get after Update = %+v, %v", got, err)
		}
		if _, err := e.store.ByShortcut(ctx, ws, "thanks"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("the old shortcut still finds it: %v", err)
		}

		if err := e.store.Delete(ctx, e.agent, ws, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Get(ctx, ws, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get after Delete: %v", err)
		}
		if err := e.store.Delete(ctx, e.agent, ws, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Delete twice: %v", err)
		}

		// Audited by ID and shortcut, never the body.
		wantAudit := []string{
			`canned.delete {"shortcut":"thx"}`,
			`canned.update {"old_shortcut":"thanks","shortcut":"thx"}`,
			`canned.create {"shortcut":"thanks"}`,
		}
		if diff := cmp.Diff(wantAudit, auditActions(t, d, ws)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
	})
}

func TestRefusesBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e, ws := setup(t, d)
		ctx := context.Background()
		ok := canned.Input{Shortcut: "hi", Title: "Hello", Body: "Hello!"}
		cases := []struct {
			name, field string
			edit        func(in *canned.Input)
		}{
			{"empty shortcut", "shortcut", func(in *canned.Input) { in.Shortcut = " / " }},
			{"shortcut with space", "shortcut", func(in *canned.Input) { in.Shortcut = "hi there" }},
			{"shortcut starting with -", "shortcut", func(in *canned.Input) { in.Shortcut = "-hi" }},
			{"shortcut too long", "shortcut", func(in *canned.Input) { in.Shortcut = strings.Repeat("a", 33) }},
			{"shortcut not ASCII", "shortcut", func(in *canned.Input) { in.Shortcut = "សួស្តី" }},
			{"shortcut with %", "shortcut", func(in *canned.Input) { in.Shortcut = "a%" }},
			{"empty title", "title", func(in *canned.Input) { in.Title = "  " }},
			{"title too long", "title", func(in *canned.Input) { in.Title = strings.Repeat("t", canned.MaxTitleRunes+1) }},
			{"title with control characters", "title", func(in *canned.Input) { in.Title = "a\x00b" }},
			{"empty body", "body", func(in *canned.Input) { in.Body = "\n \n" }},
			{"body too long", "body", func(in *canned.Input) { in.Body = strings.Repeat("ក", canned.MaxBodyRunes+1) }},
			{"body not UTF-8", "body", func(in *canned.Input) { in.Body = "a\xffb" }},
			{"body with control characters", "body", func(in *canned.Input) { in.Body = "a\x1bb" }},
		}
		r := e.create(t, ws, "base", "Base")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := ok
				tc.edit(&in)
				_, err := e.store.Create(ctx, e.agent, ws, in)
				checkInvalid(t, err, tc.field)
				_, err = e.store.Update(ctx, e.agent, ws, r.ID, in)
				checkInvalid(t, err, tc.field)
			})
		}
		list, err := e.store.List(ctx, ws, "", 0)
		if err != nil || len(list) != 1 || list[0].Body != "Body of base" {
			t.Errorf("after refusals: %+v, %v", list, err)
		}
		// The limits themselves are accepted, counted in characters.
		max := canned.Input{Shortcut: strings.Repeat("a", 32), Title: strings.Repeat("ក", canned.MaxTitleRunes),
			Body: strings.Repeat("ក", canned.MaxBodyRunes)}
		if _, err := e.store.Create(ctx, e.agent, ws, max); err != nil {
			t.Errorf("the longest response: %v", err)
		}
	})
}

func checkInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if !errors.Is(err, canned.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if v, ok := validate.As(err); !ok || v.Field != field {
		t.Fatalf("err = %v, want a validate.Error on %q", err, field)
	}
}

func TestShortcutIsUniquePerWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e, ws := setup(t, d)
		ctx := context.Background()
		other := e.workspace(t)
		e.create(t, ws, "hi", "Hi")
		second := e.create(t, ws, "hello", "Hello")
		if _, err := e.store.Create(ctx, e.agent, ws, canned.Input{Shortcut: "/HI", Title: "Again", Body: "x"}); !errors.Is(err, db.ErrConflict) {
			t.Errorf("a duplicate shortcut: %v, want ErrConflict", err)
		}
		if _, err := e.store.Update(ctx, e.agent, ws, second.ID, canned.Input{Shortcut: "hi", Title: "Hello", Body: "x"}); !errors.Is(err, db.ErrConflict) {
			t.Errorf("an update to a taken shortcut: %v, want ErrConflict", err)
		}
		if got, err := e.store.Get(ctx, ws, second.ID); err != nil || got.Shortcut != "hello" {
			t.Errorf("after the refused update: %+v, %v", got, err)
		}
		// Another workspace may use the same shortcut.
		e.create(t, other, "hi", "Hi")
	})
}

// Promise P-03: a workspace cannot read, change or delete another's
// canned responses.
func TestIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e, ws := setup(t, d)
		ctx := context.Background()
		other := e.workspace(t)
		r := e.create(t, ws, "secret", "Secret")
		if _, err := e.store.Get(ctx, other, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get: %v", err)
		}
		if _, err := e.store.ByShortcut(ctx, other, "secret"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("ByShortcut: %v", err)
		}
		if _, err := e.store.Update(ctx, e.agent, other, r.ID, canned.Input{Shortcut: "x", Title: "x", Body: "x"}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Update: %v", err)
		}
		if err := e.store.Delete(ctx, e.agent, other, r.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Delete: %v", err)
		}
		if list, err := e.store.List(ctx, other, "", 0); err != nil || len(list) != 0 {
			t.Errorf("List: %+v, %v", list, err)
		}
		if got, err := e.store.Get(ctx, ws, r.ID); err != nil || got.Shortcut != "secret" || got.Body != r.Body {
			t.Errorf("the response after the other workspace tried: %+v, %v", got, err)
		}
		if a := auditActions(t, d, other); len(a) != 0 {
			t.Errorf("the other workspace's refused attempts were audited: %v", a)
		}
	})
}

func TestListPrefix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e, ws := setup(t, d)
		ctx := context.Background()
		e.create(t, ws, "thanks", "Thank you")
		e.create(t, ws, "hours", "Opening hours")
		e.create(t, ws, "price", "Prices")
		e.create(t, ws, "a_b", "Underscore")
		e.create(t, ws, "axb", "Khmer ស្វាគមន៍")
		e.create(t, ws, "ship", "Shipping Thailand")
		for _, tc := range []struct {
			prefix string
			n      int
			want   []string
		}{
			{"", 0, []string{"a_b", "axb", "hours", "price", "ship", "thanks"}},
			{"", 2, []string{"a_b", "axb"}},
			{"/th", 0, []string{"thanks"}},  // shortcut
			{"OPEN", 0, []string{"hours"}},  // title, any case
			{"pri", 0, []string{"price"}},   // both
			{"a_", 0, []string{"a_b"}},      // _ is not a wildcard
			{"%", 0, nil},                   // nor is %
			{"ស្វា", 0, nil},                // titles match from their start only
			{"khmer ស", 0, []string{"axb"}}, // Khmer in a title
			{"thailand", 0, nil},            // a later word of the title
			{"s", 0, []string{"ship"}},      // shortcut
			{"zzz", 0, nil},
		} {
			list, err := e.store.List(ctx, ws, tc.prefix, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range list {
				got = append(got, r.Shortcut)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("List(%q, %d) (-want +got):\n%s", tc.prefix, tc.n, diff)
			}
		}
	})
}
