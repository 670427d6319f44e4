package account_test

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/internal/account"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// mustSession creates a session or fails the test.
func mustSession(t *testing.T, f *fixture, userID string) (string, *account.Session) {
	t.Helper()
	tok, s, err := f.svc.CreateSession(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return tok, s
}

// unverifiedClaims decodes a token's claims without checking it.
func unverifiedClaims(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// Promise P-02: a session is a signed JWT pointing at a sessions row, with
// the documented claims, fresh for every login (security.md §3.C C-9) and
// well under the 4096-byte cookie limit (C-12).
func TestCreateAndVerifySession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "session@example.com")
		now := f.clock.Now()
		tok, s, err := f.svc.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) >= 4096 {
			t.Errorf("token is %d bytes, want < 4096", len(tok))
		}
		if s.UserID != u.ID || !s.CreatedAt.Equal(now) || !s.LastSeenAt.Equal(now) || !s.ExpiresAt.Equal(now.Add(account.DefaultSessionTTL)) {
			t.Errorf("session = %+v", s)
		}
		if len(s.ID) < 22 { // ≥ 128 bits in base64url
			t.Errorf("session ID %q is too short to hold 128 random bits", s.ID)
		}

		c := unverifiedClaims(t, tok)
		want := map[string]any{
			"iss": "parley", "aud": []any{"parley-dashboard"}, "sub": u.ID, "sid": s.ID, "typ": "session",
			"iat": float64(now.Unix()), "nbf": float64(now.Unix()), "exp": float64(now.Add(account.DefaultSessionTTL).Unix()),
		}
		for k, v := range want {
			if got := c[k]; !equalJSON(got, v) {
				t.Errorf("claim %s = %#v, want %#v", k, got, v)
			}
		}
		if len(c) != len(want) {
			t.Errorf("claims = %v; want exactly %v", c, want)
		}

		gotU, gotS, err := f.svc.VerifySession(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if gotU.ID != u.ID || gotU.Email != u.Email || *gotS != *s {
			t.Errorf("VerifySession = %+v, %+v", gotU, gotS)
		}

		// A second login gets a new session and token; both stay valid.
		tok2, s2, err := f.svc.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s2.ID == s.ID || tok2 == tok {
			t.Error("a new login reused the session ID")
		}
		for _, tk := range []string{tok, tok2} {
			if _, _, err := f.svc.VerifySession(ctx, tk); err != nil {
				t.Error(err)
			}
		}
		if _, _, err := f.svc.CreateSession(ctx, "no-such-user"); err == nil {
			t.Error("session created for a user who does not exist")
		}
	})
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok || bok {
		return aok && bok && len(as) == len(bs) && (len(as) == 0 || as[0] == bs[0])
	}
	return a == b
}

// Security.md §3.C C-1…C-4, C-12: every forged, altered or mis-scoped token
// is refused with ErrInvalidSession.
func TestVerifySessionRefusesBadTokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "jwt@example.com")
		other := f.signUp(t, "other@example.com")
		tok, _ := mustSession(t, f, u.ID)
		_, otherSess := mustSession(t, f, other.ID)
		key := f.m.Derive(keyring.PurposeSessionJWT)
		now := f.clock.Now()
		base := unverifiedClaims(t, tok)

		sign := func(method jwt.SigningMethod, k any, change func(jwt.MapClaims), header map[string]any) string {
			c := maps.Clone(base)
			if change != nil {
				change(c)
			}
			tk := jwt.NewWithClaims(method, c)
			maps.Copy(tk.Header, header)
			s, err := tk.SignedString(k)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		hs256 := func(change func(jwt.MapClaims)) string { return sign(jwt.SigningMethodHS256, key, change, nil) }
		parts := strings.Split(tok, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		flipped := []byte(string(payload))
		i := strings.Index(string(flipped), u.ID) + 3
		flipped[i] ^= 0x01 // one bit of the user ID
		otherKey := make([]byte, 32)

		for _, tc := range []struct {
			name string
			tok  string
			ok   bool
		}{
			// Controls: the forging helper makes tokens the service accepts,
			// so each refusal below is for the reason named.
			{"control: re-signed unchanged", hs256(nil), true},
			{"control: kid and jku headers are ignored (C-5)", sign(jwt.SigningMethodHS256, key, nil, map[string]any{"kid": "x", "jku": "http://192.0.2.1/keys"}), true},

			{"C-1 alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil), false},
			{"C-1 alg none with the original signature", strings.Replace(tok, parts[0], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)), 1), false},
			{"C-2 re-signed with another key", sign(jwt.SigningMethodHS256, otherKey, nil, nil), false},
			{"C-2 HS384 with the right key", sign(jwt.SigningMethodHS384, key, nil, nil), false},
			{"C-2 HS512 with the right key", sign(jwt.SigningMethodHS512, key, nil, nil), false},
			{"C-3 payload byte flipped, signature kept", parts[0] + "." + base64.RawURLEncoding.EncodeToString(flipped) + "." + parts[2], false},
			{"C-3 signature truncated", tok[:len(tok)-2], false},
			{"C-3 signature removed", parts[0] + "." + parts[1] + ".", false},
			{"C-4 expired", hs256(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Second).Unix() }), false},
			{"C-4 nbf in the future", hs256(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), false},
			{"C-4 iat in the future", hs256(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Minute).Unix() }), false},
			{"C-4 missing exp", hs256(func(c jwt.MapClaims) { delete(c, "exp") }), false},
			{"C-4 missing nbf", hs256(func(c jwt.MapClaims) { delete(c, "nbf") }), false},
			{"C-4 wrong aud", hs256(func(c jwt.MapClaims) { c["aud"] = "parley-api" }), false},
			{"C-4 missing aud", hs256(func(c jwt.MapClaims) { delete(c, "aud") }), false},
			{"C-4 wrong iss", hs256(func(c jwt.MapClaims) { c["iss"] = "someone-else" }), false},
			{"C-4 wrong typ", hs256(func(c jwt.MapClaims) { c["typ"] = "email-verification" }), false},
			{"C-4 missing typ", hs256(func(c jwt.MapClaims) { delete(c, "typ") }), false},
			{"missing sid", hs256(func(c jwt.MapClaims) { delete(c, "sid") }), false},
			{"unknown sid", hs256(func(c jwt.MapClaims) { c["sid"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA" }), false},
			{"sid of another user's session", hs256(func(c jwt.MapClaims) { c["sid"] = otherSess.ID }), false},
			{"sub of another user", hs256(func(c jwt.MapClaims) { c["sub"] = other.ID }), false},
			{"C-12 oversized token", hs256(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 4096) }), false},
			{"empty", "", false},
			{"garbage", "not.a.token", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gotU, gotS, err := f.svc.VerifySession(ctx, tc.tok)
				if tc.ok {
					if err != nil || gotU.ID != u.ID {
						t.Fatalf("control token refused: %v", err)
					}
					return
				}
				if !errors.Is(err, account.ErrInvalidSession) || gotU != nil || gotS != nil {
					t.Errorf("VerifySession = %v, %v, %v; want ErrInvalidSession", gotU, gotS, err)
				}
			})
		}
	})
}

// Promise P-02, security.md §3.C C-6: after logout the same token is
// refused; logout is idempotent and ends only that session.
func TestRevokeSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "logout@example.com")
		tokA, a := mustSession(t, f, u.ID)
		tokB, b := mustSession(t, f, u.ID)
		if err := f.svc.RevokeSession(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, tokA); !errors.Is(err, account.ErrInvalidSession) {
			t.Errorf("revoked token: %v", err)
		}
		if _, _, err := f.svc.VerifySession(ctx, tokB); err != nil {
			t.Errorf("other session: %v", err)
		}
		if err := f.svc.RevokeSession(ctx, a.ID); err != nil {
			t.Errorf("second logout: %v", err)
		}
		if err := f.svc.RevokeSession(ctx, "no-such-session"); err != nil {
			t.Errorf("unknown session: %v", err)
		}
		list, err := f.svc.ListSessions(ctx, u.ID)
		if err != nil || len(list) != 1 || list[0].ID != b.ID {
			t.Errorf("ListSessions = %+v, %v; want only %s", list, err, b.ID)
		}
	})
}

// Security.md §3.C C-7: "sign out everywhere else" and "sign out
// everywhere" touch only that user's sessions.
func TestRevokeOtherAndAllSessions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "many@example.com")
		other := f.signUp(t, "bystander@example.com")
		tokA, _ := mustSession(t, f, u.ID)
		tokB, b := mustSession(t, f, u.ID)
		tokO, _ := mustSession(t, f, other.ID)
		check := func(step string, want map[string]bool) {
			t.Helper()
			for tok, ok := range want {
				_, _, err := f.svc.VerifySession(ctx, tok)
				if (err == nil) != ok {
					t.Errorf("%s: token %.20s… err = %v, want valid=%v", step, tok, err, ok)
				}
			}
		}
		if err := f.svc.RevokeOtherSessions(ctx, u.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		check("others revoked", map[string]bool{tokA: false, tokB: true, tokO: true})
		if err := f.svc.RevokeAllSessions(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		check("all revoked", map[string]bool{tokA: false, tokB: false, tokO: true})
	})
}

// Promise P-02, security.md §3.C C-8: a session ends after IdleTimeout
// without use and after SessionTTL however busy.
func TestSessionLifetime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "clock@example.com")

		t.Run("idle", func(t *testing.T) {
			tok, _ := mustSession(t, f, u.ID)
			f.clock.Advance(account.DefaultIdleTimeout - time.Second)
			if _, _, err := f.svc.VerifySession(ctx, tok); err != nil {
				t.Fatalf("used just before the idle timeout: %v", err)
			}
			// That use restarted the idle timer.
			f.clock.Advance(account.DefaultIdleTimeout - time.Second)
			if _, _, err := f.svc.VerifySession(ctx, tok); err != nil {
				t.Fatalf("used again within the timeout: %v", err)
			}
			f.clock.Advance(account.DefaultIdleTimeout)
			if _, _, err := f.svc.VerifySession(ctx, tok); !errors.Is(err, account.ErrInvalidSession) {
				t.Errorf("idle for the full timeout: %v", err)
			}
		})

		t.Run("absolute", func(t *testing.T) {
			tok, s := mustSession(t, f, u.ID)
			for f.clock.Now().Add(time.Hour).Before(s.ExpiresAt) {
				f.clock.Advance(time.Hour)
				if _, _, err := f.svc.VerifySession(ctx, tok); err != nil {
					t.Fatalf("active session refused at %v: %v", f.clock.Now(), err)
				}
			}
			f.clock.Set(s.ExpiresAt)
			if _, _, err := f.svc.VerifySession(ctx, tok); !errors.Is(err, account.ErrInvalidSession) {
				t.Errorf("at its absolute expiry: %v", err)
			}
			if list, _ := f.svc.ListSessions(ctx, u.ID); len(list) != 0 {
				t.Errorf("expired sessions listed: %+v", list)
			}
		})

		t.Run("row expiry, not only the token's exp", func(t *testing.T) {
			tok, s := mustSession(t, f, u.ID)
			if _, err := d.W.NewRaw("UPDATE sessions SET expires_at = ? WHERE id = ?", f.clock.Now(), s.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.svc.VerifySession(ctx, tok); !errors.Is(err, account.ErrInvalidSession) {
				t.Errorf("session row expired, token not: %v", err)
			}
		})

		t.Run("configured", func(t *testing.T) {
			c := newClock()
			svc := account.NewService(d, f.m, account.Options{Now: c.Now, BcryptCost: 4, SessionTTL: time.Hour, IdleTimeout: 10 * time.Minute})
			tok, s, err := svc.CreateSession(ctx, u.ID)
			if err != nil || !s.ExpiresAt.Equal(c.Now().Add(time.Hour)) {
				t.Fatalf("session %+v, %v", s, err)
			}
			c.Advance(10 * time.Minute)
			if _, _, err := svc.VerifySession(ctx, tok); !errors.Is(err, account.ErrInvalidSession) {
				t.Errorf("past the configured idle timeout: %v", err)
			}
		})
	})
}

// last_seen_at is written at most once a minute, not on every request.
func TestLastSeenWrittenAtMostOnceAMinute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "seen@example.com")
		tok, s := mustSession(t, f, u.ID)
		lastSeen := func() time.Time {
			var ts time.Time
			if err := d.R.NewRaw("SELECT last_seen_at FROM sessions WHERE id = ?", s.ID).Scan(ctx, &ts); err != nil {
				t.Fatal(err)
			}
			return ts.UTC()
		}
		f.clock.Advance(59 * time.Second)
		if _, got, err := f.svc.VerifySession(ctx, tok); err != nil || !got.LastSeenAt.Equal(s.CreatedAt) {
			t.Fatalf("after 59 s: %+v, %v", got, err)
		}
		if ls := lastSeen(); !ls.Equal(s.CreatedAt) {
			t.Errorf("last_seen_at written after 59 s: %v", ls)
		}
		f.clock.Advance(time.Second)
		if _, got, err := f.svc.VerifySession(ctx, tok); err != nil || !got.LastSeenAt.Equal(f.clock.Now()) {
			t.Fatalf("after 60 s: %+v, %v", got, err)
		}
		if ls := lastSeen(); !ls.Equal(f.clock.Now()) {
			t.Errorf("last_seen_at = %v after 60 s, want %v", ls, f.clock.Now())
		}
	})
}

// Security.md §3.C C-7: a deleted user's sessions are refused.
func TestSessionOfDeletedUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		u := f.signUp(t, "gone@example.com")
		tok, _ := mustSession(t, f, u.ID)
		if _, err := d.W.NewRaw("DELETE FROM users WHERE id = ?", u.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.VerifySession(ctx, tok); !errors.Is(err, account.ErrInvalidSession) {
			t.Errorf("err = %v", err)
		}
	})
}

// A token signed under another master key (another installation) is
// refused: the signing key is derived from the master.
func TestSessionKeyFromMaster(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	u := f.signUp(t, "install@example.com")
	tok, _ := mustSession(t, f, u.ID)
	svc := account.NewService(d, masterOf(t, "z"), f.opt)
	if _, _, err := svc.VerifySession(context.Background(), tok); !errors.Is(err, account.ErrInvalidSession) {
		t.Errorf("err = %v", err)
	}
}
