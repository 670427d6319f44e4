package contact_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

type env struct {
	d        *db.DB
	kr       *keyring.Keyring
	store    *contact.Store
	channels *channel.Store
	now      time.Time
}

func setup(t *testing.T, d *db.DB) *env {
	e := &env{d: d, now: fixture.Epoch}
	clock := func() time.Time { return e.now }
	e.kr, _ = fixture.Keyring(t, d, clock)
	e.store = contact.NewStore(d, e.kr, clock)
	e.channels = channel.NewStore(d, e.kr, clock)
	return e
}

func (e *env) workspace(t *testing.T) string { return fixture.Workspace(t, e.d, e.kr) }

func (e *env) page(t *testing.T, ws, pageID string) channel.Channel {
	return fixture.Messenger(t, e.channels, ws, pageID, "token-"+pageID)
}

// upsert runs Upsert in its own transaction.
func (e *env) upsert(t *testing.T, ch channel.Channel, psid string) (contact.Contact, bool) {
	t.Helper()
	var c contact.Contact
	var created bool
	err := e.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, created, err = e.store.Upsert(ctx, tx, ch, psid)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, created
}

func TestUpsertOnePerChannelAndPSID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		a := e.page(t, ws, "p-a")
		b := e.page(t, ws, "p-b")

		first, created := e.upsert(t, a, "psid-1")
		if !created || first.ID == "" || first.ProfileState != contact.ProfilePending || first.ChannelID != a.ID || first.WorkspaceID != ws {
			t.Fatalf("first upsert = %+v, created %v", first, created)
		}
		again, created := e.upsert(t, a, "psid-1")
		if created {
			t.Error("the second upsert of the same person created another contact")
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("second upsert differs (-first +again):\n%s", diff)
		}
		// A PSID means something only for its Page: the same ID on another
		// page is another person.
		other, created := e.upsert(t, b, "psid-1")
		if !created || other.ID == first.ID {
			t.Errorf("same PSID on another page = %+v, created %v", other, created)
		}
		if _, err := e.store.Lookup(context.Background(), d.R, a, "psid-unknown"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Lookup of an unknown PSID: %v", err)
		}
		if _, _, err := e.store.Upsert(context.Background(), d.R, a, ""); err == nil {
			t.Error("an empty PSID was accepted")
		}
	})
}

// Two transactions meeting the same new person at once end up with one
// contact: the loser of the insert reads the winner's row.
func TestConcurrentUpsert(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ch := e.page(t, ws, "p-c")
		const n = 8
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
					c, _, err := e.store.Upsert(ctx, tx, ch, "psid-race")
					ids[i] = c.ID
					return err
				})
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("upsert %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("upserts returned different contacts: %v", ids)
			}
		}
		var count int
		if err := d.R.NewRaw(`SELECT count(*) FROM contacts`).Scan(context.Background(), &count); err != nil || count != 1 {
			t.Errorf("contacts = %d, %v; want 1", count, err)
		}
	})
}

// Promise P-14: the profile keeps first and last name, locale and picture
// URL, and the names and picture are sealed (promise P-30 style dump check:
// nothing of them is readable in a database dump).
func TestProfileIsSealedAndOpened(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		ch := e.page(t, ws, "p-d")
		c, _ := e.upsert(t, ch, "psid-2")
		ctx := context.Background()

		p := channel.Profile{FirstName: "Sokunthea", LastName: "Vannarith", Locale: "km_KH", PictureURL: "https://cdn.example/pic-CANARY.jpg"}
		e.now = e.now.Add(time.Hour)
		if err := e.store.SetProfile(ctx, ws, c.ID, p, contact.ProfileFetched); err != nil {
			t.Fatal(err)
		}
		got, err := e.store.Get(ctx, ws, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstName != p.FirstName || got.LastName != p.LastName || got.Locale != p.Locale || got.PictureURL != p.PictureURL ||
			got.ProfileState != contact.ProfileFetched || !got.ProfileFetchedAt.Equal(e.now) || got.DisplayName() != "Sokunthea Vannarith" {
			t.Errorf("Get = %+v", got)
		}
		dump := dbtest.DumpText(t, d)
		for _, secret := range []string{"Sokunthea", "Vannarith", "CANARY"} {
			if strings.Contains(dump, secret) {
				t.Errorf("%q is readable in a database dump", secret)
			}
		}

		// Through a transaction: the same contact, read on that
		// transaction's own connection; another workspace's is not found.
		other := e.workspace(t)
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			inTx, err := e.store.GetTx(ctx, tx, ws, c.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(got, inTx); diff != "" {
				t.Errorf("GetTx differs from Get (-Get +GetTx):\n%s", diff)
			}
			if _, err := e.store.GetTx(ctx, tx, other, c.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("GetTx under another workspace: %v, want not found", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// A failed refresh keeps what the last fetch found.
		e.now = e.now.Add(31 * 24 * time.Hour)
		if err := e.store.SetProfile(ctx, ws, c.ID, channel.Profile{}, contact.ProfileUnavailable); err != nil {
			t.Fatal(err)
		}
		got, err = e.store.Get(ctx, ws, c.ID)
		if err != nil || got.FirstName != p.FirstName || got.ProfileState != contact.ProfileUnavailable || !got.ProfileFetchedAt.Equal(e.now) {
			t.Errorf("after a failed refresh: %+v, %v", got, err)
		}

		// A later answer with nothing to share clears the names: Parley keeps
		// exactly what the platform gives.
		if err := e.store.SetProfile(ctx, ws, c.ID, channel.Profile{}, contact.ProfileFetched); err != nil {
			t.Fatal(err)
		}
		got, err = e.store.Get(ctx, ws, c.ID)
		if err != nil || got.DisplayName() != "" || got.PictureURL != "" || got.Locale != "" {
			t.Errorf("after an empty profile: %+v, %v", got, err)
		}

		if err := e.store.SetProfile(ctx, ws, c.ID, p, contact.ProfilePending); err == nil {
			t.Error("SetProfile accepted pending as an outcome")
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws, other := e.workspace(t), e.workspace(t)
		ch := e.page(t, ws, "p-e")
		c, _ := e.upsert(t, ch, "psid-3")
		ctx := context.Background()
		if _, err := e.store.Get(ctx, other, c.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Get from another workspace: %v, want ErrNotFound", err)
		}
		if err := e.store.SetProfile(ctx, other, c.ID, channel.Profile{FirstName: "X"}, contact.ProfileFetched); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("SetProfile from another workspace: %v, want ErrNotFound", err)
		}
		if m, err := e.store.GetMany(ctx, other, []string{c.ID}); err != nil || len(m) != 0 {
			t.Errorf("GetMany from another workspace = %v, %v", m, err)
		}
		if l, err := e.store.List(ctx, other, contact.ListOptions{}); err != nil || len(l) != 0 {
			t.Errorf("List of another workspace = %v, %v", l, err)
		}
		// Another workspace's channel identity cannot look the contact up.
		forged := ch
		forged.WorkspaceID = other
		if _, err := e.store.Lookup(ctx, d.R, forged, "psid-3"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("Lookup through another workspace: %v", err)
		}
	})
}

func TestListPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)
		ws := e.workspace(t)
		a, b := e.page(t, ws, "p-f"), e.page(t, ws, "p-g")
		var want []string
		for i, psid := range []string{"1", "2", "3", "4", "5"} {
			ch := a
			if i == 4 {
				ch = b
			}
			e.now = e.now.Add(time.Minute)
			c, _ := e.upsert(t, ch, psid)
			want = append([]string{c.ID}, want...)
		}
		ctx := context.Background()
		var got []string
		before := ""
		for {
			page, err := e.store.List(ctx, ws, contact.ListOptions{Limit: 2, Before: before})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, c := range page {
				got = append(got, c.ID)
			}
			before = page[len(page)-1].ID
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("paged list (-want +got):\n%s", diff)
		}
		onlyB, err := e.store.List(ctx, ws, contact.ListOptions{ChannelID: b.ID})
		if err != nil || len(onlyB) != 1 || onlyB[0].ID != want[0] {
			t.Errorf("List of channel b = %+v, %v", onlyB, err)
		}
	})
}

func TestProfileDue(t *testing.T) {
	at := fixture.Epoch
	tests := []struct {
		name  string
		state contact.ProfileState
		age   time.Duration
		want  bool
	}{
		{"never fetched", contact.ProfilePending, 0, true},
		{"fetched yesterday", contact.ProfileFetched, 24 * time.Hour, false},
		{"fetched 29 days ago", contact.ProfileFetched, 29 * 24 * time.Hour, false},
		{"fetched 30 days ago", contact.ProfileFetched, contact.ProfileRefresh, true},
		{"unavailable an hour ago", contact.ProfileUnavailable, time.Hour, false},
		{"unavailable a day ago", contact.ProfileUnavailable, contact.ProfileRetry, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := contact.Contact{ProfileState: tt.state, ProfileFetchedAt: at}
			if got := c.ProfileDue(at.Add(tt.age)); got != tt.want {
				t.Errorf("ProfileDue = %v, want %v", got, tt.want)
			}
		})
	}
}
