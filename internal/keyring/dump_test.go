package keyring_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// needles are the forms a secret could leak in: raw, hex in either case,
// and base64 in both alphabets (unpadded, so that it also matches the
// start of a longer encoding).
func needles(secret []byte) map[string]string {
	return map[string]string{
		"raw":       string(secret),
		"hex":       hex.EncodeToString(secret),
		"HEX":       strings.ToUpper(hex.EncodeToString(secret)),
		"base64":    base64.RawStdEncoding.EncodeToString(secret),
		"base64url": base64.RawURLEncoding.EncodeToString(secret),
	}
}

// findLeak reports where a form of secret appears in dump, or "".
func findLeak(dump string, secret []byte) string {
	for form, n := range needles(secret) {
		if i := strings.Index(dump, n); i >= 0 {
			line := dump[strings.LastIndex(dump[:i], "\n")+1:]
			if j := strings.IndexByte(line, ':'); j > 0 {
				line = line[:j]
			}
			return fmt.Sprintf("%s form in %s", form, line)
		}
	}
	return ""
}

// Promise P-30: secrets sealed through the keyring, and the keys that seal
// them, never reach the database in any readable form; a dump of every
// table reveals none of them.
func TestDumpRevealsNoSecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m := newMaster(t, 9)
		kr := newKeyring(d, m)
		ws := newWorkspace(t, d, kr)
		if _, err := kr.RotateWorkspaceKey(ctx, ws); err != nil { // two wrapped workspace keys
			t.Fatal(err)
		}

		blob := "BLOB"
		if d.Dialect == db.Postgres {
			blob = "BYTEA"
		}
		if _, err := d.W.ExecContext(ctx, `CREATE TABLE p30_scratch (id TEXT PRIMARY KEY, body `+blob+`, note TEXT)`); err != nil {
			t.Fatal(err)
		}
		store := func(id string, body []byte) {
			t.Helper()
			if _, err := d.W.NewRaw(`INSERT INTO p30_scratch (id, body, note) VALUES (?, ?, ?)`,
				id, body, base64.StdEncoding.EncodeToString(body)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}

		// The dump must be able to see a secret stored in clear, in every
		// form we look for, or the checks below prove nothing.
		control := canary(t)
		store("control", control)
		dump := dbtest.DumpText(t, d)
		for form, n := range needles(control) {
			if form != "HEX" && !strings.Contains(dump, n) {
				t.Fatalf("control secret in clear not found in the dump (%s form)", form)
			}
		}
		if _, err := d.W.ExecContext(ctx, `DELETE FROM p30_scratch`); err != nil {
			t.Fatal(err)
		}

		secret := canary(t)
		token := keyring.AAD{Workspace: ws, Table: "p30_scratch", Column: "body", Row: "token"}
		env, err := kr.SealWorkspace(ctx, token, secret)
		if err != nil {
			t.Fatal(err)
		}
		store("token", env)
		msg := keyring.AAD{Workspace: ws, Table: "p30_scratch", Column: "body", Row: "message"}
		cenv, err := kr.SealContact(ctx, msg, "contact-1", secret)
		if err != nil {
			t.Fatal(err)
		}
		store("message", cenv)
		// A TOTP seed in its real column, sealed with the platform key.
		userID := "user-1"
		totp := keyring.AAD{Table: "users", Column: "totp_secret", Row: userID}
		penv, err := m.SealPlatform(secret, totp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.NewRaw(`INSERT INTO users (id, email, email_key, password_hash, age_confirmed_at, totp_secret, password_changed_at, created_at, updated_at)
			VALUES (?, 'a@example.com', 'a@example.com', 'v1$x', ?, ?, ?, ?, ?)`, userID, t0, penv, t0, t0, t0).Exec(ctx); err != nil {
			t.Fatal(err)
		}

		// Every key that could open those values.
		keys := map[string][]byte{"master key": m.MasterKeyForTest()}
		for i, k := range kr.DerivedKeysForTest() {
			keys[fmt.Sprintf("derived key %d", i)] = k
		}
		for _, p := range []string{keyring.PurposePlatformSeal, keyring.PurposeSessionJWT, keyring.PurposePasswordPepper, keyring.PurposeConfirmCode} {
			keys["derived "+p] = m.Derive(p)
		}
		wsKeys, err := kr.WorkspaceKeysForTest(ctx, ws)
		if err != nil || len(wsKeys) != 2 {
			t.Fatalf("workspace keys: %d, %v", len(wsKeys), err)
		}
		for id, k := range wsKeys {
			keys[fmt.Sprintf("workspace key %d", id)] = k
		}
		_, ck, err := kr.ContactKeyForTest(ctx, ws, "contact-1")
		if err != nil {
			t.Fatal(err)
		}
		keys["contact key"] = ck

		dump = dbtest.DumpText(t, d)
		for _, table := range []string{"== workspace_keys ==", "== contact_keys ==", "== p30_scratch ==", "== users =="} {
			if !strings.Contains(dump, table) {
				t.Fatalf("dump lacks %s", table)
			}
		}
		if !strings.Contains(dump, hex.EncodeToString(cenv)) || !strings.Contains(dump, hex.EncodeToString(penv)) {
			t.Fatal("dump lacks the stored envelopes: it does not cover the rows")
		}
		if where := findLeak(dump, secret); where != "" {
			t.Errorf("secret found in the dump: %s", where)
		}
		for name, k := range keys {
			if where := findLeak(dump, k); where != "" {
				t.Errorf("%s found in the dump: %s", name, where)
			}
		}
		// And the stored values do open, so they are the real thing.
		if got, err := kr.OpenContact(ctx, msg, "contact-1", cenv); err != nil || string(got) != string(secret) {
			t.Fatalf("stored contact value does not open: %v", err)
		}
		if got, err := m.OpenPlatform(penv, totp); err != nil || string(got) != string(secret) {
			t.Fatalf("stored TOTP seed does not open: %v", err)
		}
	})
}

// canary returns a high-entropy secret no database could hold by chance.
func canary(t *testing.T) []byte {
	b := make([]byte, 24)
	rand.Read(b)
	return []byte("p30-canary-" + hex.EncodeToString(b))
}
