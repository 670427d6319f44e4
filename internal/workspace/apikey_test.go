package workspace_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/workspace"
)

var apiKeyShape = regexp.MustCompile(`^prly_[0-9A-Za-z]{43}$`)

// Promise P-08: the secret is shown once and only its SHA-256 is stored.
func TestAPIKeyLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Keys")
		k, secret, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, " Zapier ", agent)
		if err != nil {
			t.Fatal(err)
		}
		if !apiKeyShape.MatchString(secret) {
			t.Errorf("secret %q has the wrong shape", secret)
		}
		want := &workspace.APIKey{ID: k.ID, WorkspaceID: w.ID, Name: "Zapier", Prefix: secret[:12], Role: agent, CreatedBy: o, CreatedAt: start}
		if diff := cmp.Diff(want, k); diff != "" {
			t.Errorf("key (-want +got):\n%s", diff)
		}

		// The row holds the digest and the 12-character prefix, never the
		// secret or its random remainder.
		row := f.row(`SELECT * FROM api_keys WHERE id = ?`, k.ID)
		sum := sha256.Sum256([]byte(secret))
		if row["key_hash"] != hex.EncodeToString(sum[:]) {
			t.Errorf("key_hash = %q, want the secret's SHA-256", row["key_hash"])
		}
		for col, v := range row {
			if strings.Contains(v, secret) || strings.Contains(v, secret[12:]) || strings.Contains(v, secret[20:40]) {
				t.Errorf("column %s holds the secret", col)
			}
		}

		list, err := f.svc.APIKeys(f.ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]workspace.APIKey{*want}, list); diff != "" {
			t.Errorf("list (-want +got):\n%s", diff)
		}

		// Authentication finds the key and notes its use at most once a minute.
		got, err := f.svc.AuthenticateAPIKey(f.ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || got.WorkspaceID != w.ID || got.Role != agent || got.LastUsedAt == nil || !got.LastUsedAt.Equal(start) {
			t.Errorf("authenticated = %+v", got)
		}
		lastUsed := func() time.Time {
			t.Helper()
			var ts time.Time
			if err := f.d.R.NewRaw(`SELECT last_used_at FROM api_keys WHERE id = ?`, k.ID).Scan(f.ctx, &ts); err != nil {
				t.Fatal(err)
			}
			return ts
		}
		f.clk.Advance(59 * time.Second)
		if got, err := f.svc.AuthenticateAPIKey(f.ctx, secret); err != nil || !got.LastUsedAt.Equal(start) {
			t.Errorf("second use within a minute: %+v, %v", got, err)
		}
		if !lastUsed().Equal(start) {
			t.Errorf("last_used_at written again within a minute: %v", lastUsed())
		}
		f.clk.Advance(time.Second)
		if _, err := f.svc.AuthenticateAPIKey(f.ctx, secret); err != nil {
			t.Fatal(err)
		}
		if want := start.Add(time.Minute); !lastUsed().Equal(want) {
			t.Errorf("last_used_at = %v, want %v", lastUsed(), want)
		}

		if err := f.svc.RevokeAPIKey(f.ctx, as(o), w.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateAPIKey(f.ctx, secret); !errors.Is(err, workspace.ErrInvalidAPIKey) {
			t.Errorf("revoked key authenticated: %v", err)
		}
		if list, err := f.svc.APIKeys(f.ctx, w.ID); err != nil || len(list) != 0 {
			t.Errorf("revoked key listed: %+v, %v", list, err)
		}
		before := f.auditCount()
		if err := f.svc.RevokeAPIKey(f.ctx, as(o), w.ID, k.ID); err != nil || f.auditCount() != before {
			t.Errorf("second revoke: %v, %d new entries", err, f.auditCount()-before)
		}
		f.refused(db.ErrNotFound, func() error { return f.svc.RevokeAPIKey(f.ctx, as(o), w.ID, "no-such-key") })

		es := f.entries(w.ID)
		if diff := cmp.Diff([]string{workspace.ActionWorkspaceCreate, workspace.ActionAPIKeyCreate, workspace.ActionAPIKeyRevoke}, f.actions(w.ID)); diff != "" {
			t.Errorf("audit (-want +got):\n%s", diff)
		}
		for _, e := range es[1:] {
			if e.TargetType != "api_key" || e.TargetID != k.ID || string(e.Details) != `{"name":"Zapier","role":"agent"}` {
				t.Errorf("entry = %+v, %s", e, e.Details)
			}
			if strings.Contains(string(e.Details), secret[:12]) {
				t.Errorf("entry %s holds part of the secret", e.Action)
			}
		}
	})
}

func TestAuthenticateRejectsMalformedAndUnknownKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Malformed")
		_, secret, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "real", viewer)
		if err != nil {
			t.Fatal(err)
		}
		c := byte('a')
		if secret[20] == c {
			c = 'b'
		}
		for _, bad := range []string{
			"", "prly_", secret[:47], secret + "A", " " + secret, "Bearer " + secret,
			"prlx_" + secret[5:], strings.ToUpper(secret[:5]) + secret[5:],
			secret[:20] + "-" + secret[21:], secret[:20] + string(c) + secret[21:],
			"prly_" + strings.Repeat("0", 43), "' OR 1=1 --",
		} {
			if k, err := f.svc.AuthenticateAPIKey(f.ctx, bad); !errors.Is(err, workspace.ErrInvalidAPIKey) || k != nil {
				t.Errorf("AuthenticateAPIKey(%q) = %+v, %v", bad, k, err)
			}
		}
		if _, err := f.svc.AuthenticateAPIKey(f.ctx, secret); err != nil {
			t.Errorf("the real key: %v", err)
		}
	})
}

// Promise P-04: API keys are never owner and never above their issuer; agents
// and viewers issue none; bad input changes nothing.
func TestCreateAPIKeyRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w, o := f.workspace("Key rules")
		for _, tc := range []struct {
			actor, role workspace.Role
			want        error
		}{
			{owner, owner, workspace.ErrRoleNotAllowed},
			{owner, admin, nil},
			{owner, agent, nil},
			{owner, viewer, nil},
			{admin, owner, workspace.ErrRoleNotAllowed},
			{admin, admin, nil},
			{admin, viewer, nil},
			{agent, agent, workspace.ErrRoleNotAllowed},
			{agent, viewer, workspace.ErrRoleNotAllowed},
			{viewer, viewer, workspace.ErrRoleNotAllowed},
			{"", viewer, workspace.ErrRoleNotAllowed},
		} {
			before := f.auditCount()
			k, secret, err := f.svc.CreateAPIKey(f.ctx, as(o), tc.actor, w.ID, "k", tc.role)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s issues %s key: %v, want %v", tc.actor, tc.role, err, tc.want)
			}
			if wrote := f.auditCount() - before; (tc.want == nil) != (wrote == 1) {
				t.Errorf("%s issues %s key: %d audit entries", tc.actor, tc.role, wrote)
			}
			if tc.want != nil && (k != nil || secret != "") {
				t.Errorf("%s issues %s key: refused call returned %+v, %q", tc.actor, tc.role, k, secret)
			}
		}
		if n := f.count(`SELECT count(*) FROM api_keys WHERE role = 'owner'`); n != 0 {
			t.Errorf("%d owner keys", n)
		}
		f.invalid("role", func() error { _, _, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, "k", "root"); return err })
		f.invalid("name", func() error { _, _, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, " ", agent); return err })
		f.invalid("name", func() error {
			_, _, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, w.ID, strings.Repeat("k", 101), agent)
			return err
		})
		f.refused(db.ErrNotFound, func() error {
			_, _, err := f.svc.CreateAPIKey(f.ctx, as(o), owner, "no-such-workspace", "k", agent)
			return err
		})
	})
}

// Security.md B-9: a key authenticates to its own workspace only, with its
// own role, for the access layer to enforce.
func TestAPIKeysBelongToTheirWorkspace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, ao := f.workspace("A")
		b, bo := f.workspace("B")
		ka, sa, err := f.svc.CreateAPIKey(f.ctx, as(ao), owner, a.ID, "a", viewer)
		if err != nil {
			t.Fatal(err)
		}
		kb, sb, err := f.svc.CreateAPIKey(f.ctx, as(bo), owner, b.ID, "b", admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			secret, id, ws string
			role           workspace.Role
		}{{sa, ka.ID, a.ID, viewer}, {sb, kb.ID, b.ID, admin}} {
			k, err := f.svc.AuthenticateAPIKey(f.ctx, tc.secret)
			if err != nil || k.ID != tc.id || k.WorkspaceID != tc.ws || k.Role != tc.role {
				t.Errorf("authenticated %+v, %v; want key %s of %s as %s", k, err, tc.id, tc.ws, tc.role)
			}
		}
	})
}
