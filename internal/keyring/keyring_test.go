package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fakeclock"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock = fakeclock.Clock

func newMaster(t testing.TB, b byte) *keyring.Master {
	m, err := keyring.NewMaster(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newKeyring(d *db.DB, m *keyring.Master) *keyring.Keyring {
	return keyring.New(d, m, keyring.Options{Now: func() time.Time { return t0 }})
}

// insertWorkspace adds a workspaces row through idb.
func insertWorkspace(ctx context.Context, idb bun.IDB, id string) error {
	_, err := idb.NewRaw(`INSERT INTO workspaces (id, name, plan, created_at, updated_at) VALUES (?, 'Test', 'trial', ?, ?)`, id, t0, t0).Exec(ctx)
	return err
}

// newWorkspace creates a workspace and its first key in one transaction,
// as the workspace package does.
func newWorkspace(t testing.TB, d *db.DB, kr *keyring.Keyring) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	err := d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if err := insertWorkspace(ctx, tx, id); err != nil {
			return err
		}
		return kr.CreateWorkspaceKey(ctx, tx, id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func headerKeyID(t *testing.T, env []byte) uint32 {
	t.Helper()
	h, err := keyring.ParseHeader(env)
	if err != nil {
		t.Fatal(err)
	}
	return h.KeyID
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func primaryKeyID(t *testing.T, d *db.DB, ws string) uint32 {
	t.Helper()
	var id int64
	if err := d.R.NewRaw(`SELECT key_id FROM workspace_keys WHERE workspace_id = ? AND is_primary`, ws).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return uint32(id)
}

func TestSealOpenRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		kr := newKeyring(d, newMaster(t, 1))
		ws := newWorkspace(t, d, kr)
		for _, pt := range [][]byte{{}, []byte("EAAG page token"), bytes.Repeat([]byte("message body "), 5000)} {
			aad := keyring.AAD{Workspace: ws, Table: "channels", Column: "token", Row: "c1"}
			env, err := kr.SealWorkspace(ctx, aad, pt)
			if err != nil {
				t.Fatal(err)
			}
			if got := headerKeyID(t, env); got != primaryKeyID(t, d, ws) {
				t.Errorf("envelope names key %d, primary is %d", got, primaryKeyID(t, d, ws))
			}
			if len(pt) > 0 && bytes.Contains(env, pt) {
				t.Error("envelope contains the plaintext")
			}
			got, err := kr.OpenWorkspace(ctx, aad, env)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("OpenWorkspace: %d bytes, %v", len(got), err)
			}

			caad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m1"}
			cenv, err := kr.SealContact(ctx, caad, "contact-1", pt)
			if err != nil {
				t.Fatal(err)
			}
			cid, _, err := kr.ContactKeyForTest(ctx, ws, "contact-1")
			if err != nil || headerKeyID(t, cenv) != cid {
				t.Errorf("contact envelope names key %d, contact key is %d (%v)", headerKeyID(t, cenv), cid, err)
			}
			got, err = kr.OpenContact(ctx, caad, "contact-1", cenv)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("OpenContact: %d bytes, %v", len(got), err)
			}
			// A fresh Keyring (empty cache, like another replica) opens both.
			other := newKeyring(d, newMaster(t, 1))
			if got, err := other.OpenWorkspace(ctx, aad, env); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("fresh keyring OpenWorkspace: %v", err)
			}
			if got, err := other.OpenContact(ctx, caad, "contact-1", cenv); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("fresh keyring OpenContact: %v", err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM contact_keys WHERE workspace_id = ?`, ws); n != 1 {
			t.Errorf("contact_keys rows = %d, want 1 (created once, reused)", n)
		}
	})
}

func TestAADMismatchFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		kr := newKeyring(d, newMaster(t, 1))
		ws, ws2 := newWorkspace(t, d, kr), newWorkspace(t, d, kr)
		aad := keyring.AAD{Workspace: ws, Table: "channels", Column: "token", Row: "r1"}
		env, err := kr.SealWorkspace(ctx, aad, []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		cenv, err := kr.SealContact(ctx, aad, "alice", []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kr.SealContact(ctx, aad, "bob", []byte("x")); err != nil { // bob has a key too
			t.Fatal(err)
		}
		mismatches := map[string]keyring.AAD{
			"other row":       {Workspace: ws, Table: "channels", Column: "token", Row: "r2"},
			"other column":    {Workspace: ws, Table: "channels", Column: "secret", Row: "r1"},
			"other table":     {Workspace: ws, Table: "integrations", Column: "token", Row: "r1"},
			"other workspace": {Workspace: ws2, Table: "channels", Column: "token", Row: "r1"},
		}
		for name, other := range mismatches {
			t.Run(name, func(t *testing.T) {
				if _, err := kr.OpenWorkspace(ctx, other, env); !errors.Is(err, keyring.ErrDecrypt) {
					t.Errorf("OpenWorkspace: err = %v, want ErrDecrypt", err)
				}
				if name == "other workspace" {
					return // ws2 has no contact alice: see the destroyed cases
				}
				if _, err := kr.OpenContact(ctx, other, "alice", cenv); !errors.Is(err, keyring.ErrDecrypt) {
					t.Errorf("OpenContact: err = %v, want ErrDecrypt", err)
				}
			})
		}
		t.Run("other contact", func(t *testing.T) {
			if _, err := kr.OpenContact(ctx, aad, "bob", cenv); !errors.Is(err, keyring.ErrDecrypt) {
				t.Errorf("err = %v, want ErrDecrypt", err)
			}
		})
		t.Run("workspace envelope as contact envelope", func(t *testing.T) {
			if _, err := kr.OpenContact(ctx, aad, "alice", env); !errors.Is(err, keyring.ErrDecrypt) {
				t.Errorf("err = %v, want ErrDecrypt", err)
			}
			if _, err := kr.OpenWorkspace(ctx, aad, cenv); !errors.Is(err, keyring.ErrDecrypt) {
				t.Errorf("err = %v, want ErrDecrypt", err)
			}
		})
	})
}

// Flipping any bit of a stored envelope fails to open, through the whole
// Keyring path (key lookup by the envelope's key ID included).
func TestTamperedEnvelopesFail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		kr := newKeyring(d, newMaster(t, 1))
		ws := newWorkspace(t, d, kr)
		aad := keyring.AAD{Workspace: ws, Table: "channels", Column: "token", Row: "r1"}
		wenv, err := kr.SealWorkspace(ctx, aad, []byte("page token"))
		if err != nil {
			t.Fatal(err)
		}
		cenv, err := kr.SealContact(ctx, aad, "alice", []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		open := map[string]func([]byte) ([]byte, error){
			"workspace": func(e []byte) ([]byte, error) { return kr.OpenWorkspace(ctx, aad, e) },
			"contact":   func(e []byte) ([]byte, error) { return kr.OpenContact(ctx, aad, "alice", e) },
		}
		envs := map[string][]byte{"workspace": wenv, "contact": cenv}
		for kind, env := range envs {
			for i := range env {
				bad := append([]byte(nil), env...)
				bad[i] ^= 0x80
				pt, err := open[kind](bad)
				want := keyring.ErrDecrypt
				if i < 2 {
					want = keyring.ErrMalformed
				}
				if !errors.Is(err, want) || pt != nil {
					t.Errorf("%s, byte %d flipped: %q, %v; want %v", kind, i, pt, err, want)
				}
			}
			for _, n := range []int{0, keyring.Overhead - 1, keyring.Overhead, len(env) - 1} {
				if _, err := open[kind](env[:n]); err == nil {
					t.Errorf("%s cut to %d bytes opened", kind, n)
				}
			}
			if _, err := open[kind](append(env, 0)); !errors.Is(err, keyring.ErrDecrypt) {
				t.Errorf("%s with a byte appended: %v", kind, err)
			}
		}
	})
}

func TestWrongMasterFails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		right := newMaster(t, 1)
		kr := newKeyring(d, right)
		ws := newWorkspace(t, d, kr)
		aad := keyring.AAD{Workspace: ws, Table: "channels", Column: "token", Row: "r1"}
		env, _ := kr.SealWorkspace(ctx, aad, []byte("secret"))
		cenv, _ := kr.SealContact(ctx, aad, "alice", []byte("secret"))

		wrong := newKeyring(d, newMaster(t, 2))
		if _, err := wrong.OpenWorkspace(ctx, aad, env); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Errorf("other master, OpenWorkspace: %v, want ErrUnknownKey", err)
		}
		if _, err := wrong.OpenContact(ctx, aad, "alice", cenv); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Errorf("other master, OpenContact: %v, want ErrUnknownKey", err)
		}
		if _, err := wrong.SealWorkspace(ctx, aad, []byte("x")); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Errorf("other master, SealWorkspace: %v, want ErrUnknownKey", err)
		}
		impostor := newKeyring(d, keyring.MasterWithIDForTest(bytes.Repeat([]byte{2}, 32), right.ID()))
		if _, err := impostor.OpenWorkspace(ctx, aad, env); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("wrong key with the right ID: %v, want ErrDecrypt", err)
		}
		if _, err := impostor.OpenContact(ctx, aad, "alice", cenv); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("wrong key with the right ID, contact: %v, want ErrDecrypt", err)
		}
	})
}

func TestRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMaster(t, 1)
		kr := newKeyring(d, m)
		ws := newWorkspace(t, d, kr)
		first := primaryKeyID(t, d, ws)
		aad := keyring.AAD{Workspace: ws, Table: "channels", Column: "token", Row: "r1"}
		before, _ := kr.SealWorkspace(ctx, aad, []byte("before"))
		cbefore, _ := kr.SealContact(ctx, aad, "alice", []byte("alice before"))

		second, err := kr.RotateWorkspaceKey(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		if second == first || second == 0 || primaryKeyID(t, d, ws) != second {
			t.Fatalf("rotation: first %d, second %d, primary %d", first, second, primaryKeyID(t, d, ws))
		}
		after, _ := kr.SealWorkspace(ctx, aad, []byte("after"))
		if headerKeyID(t, before) != first || headerKeyID(t, after) != second {
			t.Errorf("envelopes name %d and %d, want %d then %d", headerKeyID(t, before), headerKeyID(t, after), first, second)
		}
		// A contact created after rotation is wrapped under the new key; the
		// old contact's key stays wrapped under the old one and still opens.
		if _, err := kr.SealContact(ctx, aad, "bob", []byte("bob after")); err != nil {
			t.Fatal(err)
		}
		var wrappedBy []int64
		if err := d.R.NewRaw(`SELECT wrapped_by FROM contact_keys WHERE workspace_id = ? ORDER BY contact_id`, ws).Scan(ctx, &wrappedBy); err != nil {
			t.Fatal(err)
		}
		if len(wrappedBy) != 2 || uint32(wrappedBy[0]) != first || uint32(wrappedBy[1]) != second {
			t.Errorf("wrapped_by = %v, want [%d %d]", wrappedBy, first, second)
		}
		third, err := kr.RotateWorkspaceKey(ctx, ws)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []*keyring.Keyring{kr, newKeyring(d, m)} {
			for env, want := range map[string]string{string(before): "before", string(after): "after"} {
				if got, err := k.OpenWorkspace(ctx, aad, []byte(env)); err != nil || string(got) != want {
					t.Errorf("open %q after rotation: %q, %v", want, got, err)
				}
			}
			if got, err := k.OpenContact(ctx, aad, "alice", cbefore); err != nil || string(got) != "alice before" {
				t.Errorf("open contact value after rotation: %q, %v", got, err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`, ws); n != 3 {
			t.Errorf("%d keys, want 3", n)
		}
		if n := count(t, d, `SELECT count(*) FROM workspace_keys WHERE workspace_id = ? AND is_primary`, ws); n != 1 || primaryKeyID(t, d, ws) != third {
			t.Errorf("%d primaries, want 1 (the third key)", n)
		}
	})
}

// The schema itself allows one primary key per workspace.
func TestOnePrimaryPerWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		kr := newKeyring(d, newMaster(t, 1))
		ws := newWorkspace(t, d, kr)
		_, err := d.W.NewRaw(`INSERT INTO workspace_keys (workspace_id, key_id, wrapped, is_primary, created_at) VALUES (?, 1, ?, TRUE, ?)`,
			ws, []byte("x"), t0).Exec(ctx)
		if !db.IsUniqueViolation(err) {
			t.Fatalf("second primary: err = %v, want a unique violation", err)
		}
		if _, err := d.W.NewRaw(`INSERT INTO workspace_keys (workspace_id, key_id, wrapped, is_primary, created_at) VALUES (?, 1, ?, FALSE, ?)`,
			ws, []byte("x"), t0).Exec(ctx); err != nil {
			t.Fatalf("second, non-primary key: %v", err)
		}
		if err := kr.CreateWorkspaceKey(ctx, nil, ws); !errors.Is(err, db.ErrConflict) {
			t.Errorf("CreateWorkspaceKey twice: err = %v, want ErrConflict", err)
		}
	})
}

// Concurrent rotations each rotate, and leave exactly one primary.
func TestConcurrentRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		kr := newKeyring(d, newMaster(t, 1))
		ws := newWorkspace(t, d, kr)
		const n = 4
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				_, err := newKeyring(d, newMaster(t, 1)).RotateWorkspaceKey(ctx, ws)
				errs <- err
			}()
		}
		close(start)
		ok := 0
		for range n {
			err := <-errs
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, db.ErrConflict):
				t.Errorf("rotate: %v", err)
			}
		}
		if got := count(t, d, `SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`, ws); got != ok+1 {
			t.Errorf("%d keys after %d successful rotations, want %d", got, ok, ok+1)
		}
		if got := count(t, d, `SELECT count(*) FROM workspace_keys WHERE workspace_id = ? AND is_primary`, ws); got != 1 {
			t.Errorf("%d primaries", got)
		}
	})
}

func TestDestroyWorkspaceKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMaster(t, 1)
		kr := newKeyring(d, m)
		ws, keep := newWorkspace(t, d, kr), newWorkspace(t, d, kr)
		aad := keyring.AAD{Workspace: ws, Table: "channels", Column: "token", Row: "r1"}
		kaad := keyring.AAD{Workspace: keep, Table: "channels", Column: "token", Row: "r1"}
		env, _ := kr.SealWorkspace(ctx, aad, []byte("secret"))
		if _, err := kr.RotateWorkspaceKey(ctx, ws); err != nil {
			t.Fatal(err)
		}
		env2, _ := kr.SealWorkspace(ctx, aad, []byte("secret 2"))
		cenv, _ := kr.SealContact(ctx, aad, "alice", []byte("hello"))
		kenv, _ := kr.SealWorkspace(ctx, kaad, []byte("kept"))
		kcenv, _ := kr.SealContact(ctx, kaad, "alice", []byte("kept hello"))
		// Warm kr's cache: destroying through kr must leave it unable to
		// open anything at once.
		if _, err := kr.OpenWorkspace(ctx, aad, env); err != nil {
			t.Fatal(err)
		}

		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return kr.DestroyWorkspaceKeys(ctx, tx, ws)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []*keyring.Keyring{kr, newKeyring(d, m)} {
			for _, e := range [][]byte{env, env2} {
				if pt, err := k.OpenWorkspace(ctx, aad, e); !errors.Is(err, keyring.ErrKeyDestroyed) || pt != nil {
					t.Errorf("OpenWorkspace after destroy: %q, %v; want ErrKeyDestroyed", pt, err)
				}
			}
			if pt, err := k.OpenContact(ctx, aad, "alice", cenv); !errors.Is(err, keyring.ErrKeyDestroyed) || pt != nil {
				t.Errorf("OpenContact after destroy: %q, %v; want ErrKeyDestroyed", pt, err)
			}
			if _, err := k.SealWorkspace(ctx, aad, []byte("new")); !errors.Is(err, keyring.ErrKeyDestroyed) {
				t.Errorf("SealWorkspace after destroy: %v, want ErrKeyDestroyed", err)
			}
			if _, err := k.SealContact(ctx, aad, "carol", []byte("new")); !errors.Is(err, keyring.ErrKeyDestroyed) {
				t.Errorf("SealContact after destroy: %v, want ErrKeyDestroyed", err)
			}
			// The other workspace is untouched.
			if got, err := k.OpenWorkspace(ctx, kaad, kenv); err != nil || string(got) != "kept" {
				t.Errorf("other workspace: %q, %v", got, err)
			}
			if got, err := k.OpenContact(ctx, kaad, "alice", kcenv); err != nil || string(got) != "kept hello" {
				t.Errorf("other workspace contact: %q, %v", got, err)
			}
		}
		if _, err := kr.RotateWorkspaceKey(ctx, ws); !errors.Is(err, keyring.ErrKeyDestroyed) {
			t.Errorf("rotate after destroy: %v, want ErrKeyDestroyed", err)
		}
		if n := count(t, d, `SELECT count(*) FROM workspace_keys WHERE workspace_id = ?`, ws) +
			count(t, d, `SELECT count(*) FROM contact_keys WHERE workspace_id = ?`, ws); n != 0 {
			t.Errorf("%d key rows left", n)
		}
		if err := kr.DestroyWorkspaceKeys(ctx, nil, ws); err != nil {
			t.Errorf("second destroy: %v", err)
		}
	})
}

func TestDestroyContactKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMaster(t, 1)
		kr := newKeyring(d, m)
		ws := newWorkspace(t, d, kr)
		aad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m1"}
		alice, _ := kr.SealContact(ctx, aad, "alice", []byte("from alice"))
		bob, _ := kr.SealContact(ctx, aad, "bob", []byte("from bob"))
		token, _ := kr.SealWorkspace(ctx, aad, []byte("token"))

		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return kr.DestroyContactKey(ctx, tx, ws, "alice")
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []*keyring.Keyring{kr, newKeyring(d, m)} {
			if pt, err := k.OpenContact(ctx, aad, "alice", alice); !errors.Is(err, keyring.ErrKeyDestroyed) || pt != nil {
				t.Errorf("alice after destroy: %q, %v; want ErrKeyDestroyed", pt, err)
			}
			if got, err := k.OpenContact(ctx, aad, "bob", bob); err != nil || string(got) != "from bob" {
				t.Errorf("bob after alice's destroy: %q, %v", got, err)
			}
			if got, err := k.OpenWorkspace(ctx, aad, token); err != nil || string(got) != "token" {
				t.Errorf("workspace value after alice's destroy: %q, %v", got, err)
			}
		}
		if err := kr.DestroyContactKey(ctx, nil, ws, "alice"); err != nil {
			t.Errorf("second destroy: %v", err)
		}
		// A later seal for the same ID makes a fresh key, which does not
		// bring the shredded value back.
		if _, err := kr.SealContact(ctx, aad, "alice", []byte("new alice")); err != nil {
			t.Fatal(err)
		}
		if pt, err := kr.OpenContact(ctx, aad, "alice", alice); !errors.Is(err, keyring.ErrDecrypt) || pt != nil {
			t.Errorf("old alice value with a fresh key: %q, %v; want ErrDecrypt", pt, err)
		}
	})
}

// Two replicas sealing a new contact's first value at once end with one key
// that opens both values.
func TestConcurrentFirstContactSeal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMaster(t, 1)
		ws := newWorkspace(t, d, newKeyring(d, m))
		aad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m1"}
		const n = 8
		envs := make([][]byte, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			kr := newKeyring(d, m) // one per goroutine: no shared cache
			wg.Go(func() {
				<-start
				envs[i], errs[i] = kr.SealContact(ctx, aad, "alice", []byte("hi"))
			})
		}
		close(start)
		wg.Wait()
		kr := newKeyring(d, m)
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("seal %d: %v", i, errs[i])
			}
			if got, err := kr.OpenContact(ctx, aad, "alice", envs[i]); err != nil || string(got) != "hi" {
				t.Errorf("open %d: %q, %v", i, got, err)
			}
		}
		if got := count(t, d, `SELECT count(*) FROM contact_keys WHERE workspace_id = ? AND contact_id = 'alice'`, ws); got != 1 {
			t.Errorf("%d keys for one contact", got)
		}
	})
}

// Inside a transaction the Tx variants see the transaction's own rows and
// do not wait for the writer it holds (on SQLite that would never return).
func TestTxVariants(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMaster(t, 1)
		kr := newKeyring(d, m)
		ws := uuid.Must(uuid.NewV7()).String()
		aad := keyring.AAD{Workspace: ws, Table: "channels", Column: "token", Row: "r1"}
		var wenv, cenv []byte
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := insertWorkspace(ctx, tx, ws); err != nil {
				return err
			}
			if err := kr.CreateWorkspaceKey(ctx, tx, ws); err != nil {
				return err
			}
			var err error
			if wenv, err = kr.SealWorkspaceTx(ctx, tx, aad, []byte("token")); err != nil {
				return err
			}
			if cenv, err = kr.SealContactTx(ctx, tx, aad, "alice", []byte("hello")); err != nil {
				return err
			}
			if got, err := kr.OpenContactTx(ctx, tx, aad, "alice", cenv); err != nil || string(got) != "hello" {
				t.Errorf("OpenContactTx in tx: %q, %v", got, err)
			}
			if got, err := kr.OpenWorkspaceTx(ctx, tx, aad, wenv); err != nil || string(got) != "token" {
				t.Errorf("OpenWorkspaceTx in tx: %q, %v", got, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := kr.OpenWorkspace(ctx, aad, wenv); err != nil || string(got) != "token" {
			t.Errorf("after commit: %q, %v", got, err)
		}
		if got, err := kr.OpenContact(ctx, aad, "alice", cenv); err != nil || string(got) != "hello" {
			t.Errorf("after commit: %q, %v", got, err)
		}

		// A rolled-back transaction leaves no key behind, in the database or
		// in the cache.
		gone := uuid.Must(uuid.NewV7()).String()
		gaad := keyring.AAD{Workspace: gone, Table: "channels", Column: "token", Row: "r1"}
		rollback := errors.New("roll back")
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := insertWorkspace(ctx, tx, gone); err != nil {
				return err
			}
			if err := kr.CreateWorkspaceKey(ctx, tx, gone); err != nil {
				return err
			}
			if _, err := kr.SealContactTx(ctx, tx, gaad, "alice", []byte("x")); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if _, err := kr.SealWorkspace(ctx, gaad, []byte("x")); !errors.Is(err, keyring.ErrKeyDestroyed) {
			t.Errorf("seal for a rolled-back workspace: %v, want ErrKeyDestroyed", err)
		}
	})
}

func TestBadAAD(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		kr := newKeyring(d, newMaster(t, 1))
		ws := newWorkspace(t, d, kr)
		for name, aad := range map[string]keyring.AAD{
			"no workspace":          {Table: "channels", Column: "token", Row: "r1"},
			"reserved ws-dek":       {Workspace: ws, Table: "ws-dek", Row: "1"},
			"reserved contact-dek":  {Workspace: ws, Table: "contact-dek", Column: "alice", Row: "1"},
			"workspace never exist": {Workspace: "nope", Table: "channels"},
		} {
			if _, err := kr.SealWorkspace(ctx, aad, []byte("x")); err == nil {
				t.Errorf("%s: SealWorkspace succeeded", name)
			}
			if _, err := kr.SealContact(ctx, aad, "alice", []byte("x")); err == nil {
				t.Errorf("%s: SealContact succeeded", name)
			}
		}
		if _, err := kr.SealContact(ctx, keyring.AAD{Workspace: ws}, "", []byte("x")); err == nil {
			t.Error("SealContact with no contact ID succeeded")
		}
		if err := kr.CreateWorkspaceKey(ctx, nil, ""); err == nil {
			t.Error("CreateWorkspaceKey with no workspace succeeded")
		}
	})
}

func TestBlindIndex(t *testing.T) {
	d := dbtest.SQLite(t)
	kr := newKeyring(d, newMaster(t, 1))
	a := kr.BlindIndex("ws1", "+85512345678")
	if len(a) != 43 || strings.ContainsAny(a, "+/=") {
		t.Errorf("index %q is not 43 base64url characters", a)
	}
	if strings.Contains(a, "85512345678") {
		t.Error("index contains the value")
	}
	same := []string{a, kr.BlindIndex("ws1", "+85512345678"), newKeyring(d, newMaster(t, 1)).BlindIndex("ws1", "+85512345678")}
	for _, s := range same {
		if s != a {
			t.Fatalf("index not deterministic: %q vs %q", s, a)
		}
	}
	different := map[string]string{
		"other value":     kr.BlindIndex("ws1", "+85512345679"),
		"other workspace": kr.BlindIndex("ws2", "+85512345678"),
		"other master":    newKeyring(d, newMaster(t, 2)).BlindIndex("ws1", "+85512345678"),
		"shifted":         kr.BlindIndex("ws1+", "85512345678"),
	}
	for name, s := range different {
		if s == a {
			t.Errorf("%s gives the same index", name)
		}
	}
}

// A destroy by another replica reaches this one's cache within the TTL;
// a destroy here takes effect at once (TestDestroy*).
func TestCacheTTLBoundsStaleKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMaster(t, 1)
		c := fakeclock.New(t0)
		here := keyring.New(d, m, keyring.Options{Now: c.Now, CacheTTL: time.Minute})
		there := keyring.New(d, m, keyring.Options{Now: c.Now})
		ws := newWorkspace(t, d, here)
		aad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m1"}
		env, _ := here.SealContact(ctx, aad, "alice", []byte("hi"))
		if err := there.DestroyContactKey(ctx, nil, ws, "alice"); err != nil {
			t.Fatal(err)
		}
		c.Advance(59 * time.Second)
		if _, err := here.OpenContact(ctx, aad, "alice", env); err != nil {
			t.Fatalf("within the TTL the cached key still opens (documented): %v", err)
		}
		c.Advance(time.Second)
		if _, err := here.OpenContact(ctx, aad, "alice", env); !errors.Is(err, keyring.ErrKeyDestroyed) {
			t.Fatalf("after the TTL: %v, want ErrKeyDestroyed", err)
		}

		nocache := keyring.New(d, m, keyring.Options{Now: c.Now, CacheTTL: -1})
		benv, _ := nocache.SealContact(ctx, aad, "bob", []byte("hi"))
		if _, err := nocache.OpenContact(ctx, aad, "bob", benv); err != nil {
			t.Fatal(err)
		}
		if n := nocache.CacheLenForTest(); n != 0 {
			t.Errorf("disabled cache holds %d keys", n)
		}
	})
}

func TestCacheIsBounded(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	m := newMaster(t, 1)
	kr := keyring.New(d, m, keyring.Options{Now: func() time.Time { return t0 }, CacheSize: 3})
	ws := newWorkspace(t, d, kr)
	aad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m1"}
	envs := map[string][]byte{}
	for _, c := range []string{"a", "b", "c", "d", "e", "f"} {
		env, err := kr.SealContact(ctx, aad, c, []byte(c))
		if err != nil {
			t.Fatal(err)
		}
		envs[c] = env
		if n := kr.CacheLenForTest(); n > 3 {
			t.Fatalf("cache holds %d keys, cap 3", n)
		}
	}
	for c, env := range envs { // evicted keys are read again
		if got, err := kr.OpenContact(ctx, aad, c, env); err != nil || string(got) != c {
			t.Errorf("%s: %q, %v", c, got, err)
		}
	}
}

func BenchmarkSealOpen(b *testing.B) {
	pt := bytes.Repeat([]byte("x"), 1024)
	b.Run("envelope-1KiB", func(b *testing.B) {
		b.SetBytes(int64(len(pt)))
		for b.Loop() {
			env, err := keyring.Seal(testKey, testKeyID, pt, testAAD)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := keyring.Open(lookupOne(testKeyID, testKey), env, testAAD); err != nil {
				b.Fatal(err)
			}
		}
	})
	d := dbtest.SQLite(b)
	kr := newKeyring(d, newMaster(b, 1))
	ws := newWorkspace(b, d, kr)
	aad := keyring.AAD{Workspace: ws, Table: "messages", Column: "body", Row: "m1"}
	ctx := context.Background()
	b.Run("workspace-cached-1KiB", func(b *testing.B) {
		b.SetBytes(int64(len(pt)))
		for b.Loop() {
			env, err := kr.SealWorkspace(ctx, aad, pt)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := kr.OpenWorkspace(ctx, aad, env); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("contact-cached-1KiB", func(b *testing.B) {
		b.SetBytes(int64(len(pt)))
		for b.Loop() {
			env, err := kr.SealContact(ctx, aad, "alice", pt)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := kr.OpenContact(ctx, aad, "alice", env); err != nil {
				b.Fatal(err)
			}
		}
	})
}
