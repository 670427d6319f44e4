package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/pquerna/otp/totp"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// canaries returns the forms a secret could leak in.
func canaries(s string) []string {
	return []string{s, hex.EncodeToString([]byte(s)), base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))}
}

// plant drives a whole account through the API, collecting every secret it
// handles: the password, the session token, the TOTP seed, recovery codes
// and an API key.
func plant(t *testing.T, a *apptest.App) []string {
	t.Helper()
	const password = "Canary-Passphrase-7f3a9c1e2b"
	c := a.Client(t)
	c.Do("POST", "/api/v1/auth/signup", map[string]any{"email": "canary@example.com", "password": password, "age_confirmed": true}).Must(t, 201)
	secrets := []string{password, c.Cookie("parley_session").Value}
	var setup struct{ Secret string }
	c.Do("POST", "/api/v1/me/2fa/setup", map[string]string{"password": password}).Must(t, 200).JSON(t, &setup)
	code, _ := totp.GenerateCode(setup.Secret, a.Clock.Now())
	var en struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	c.Do("POST", "/api/v1/me/2fa/enable", map[string]string{"code": code}).Must(t, 200).JSON(t, &en)
	secrets = append(secrets, setup.Secret)
	secrets = append(secrets, en.RecoveryCodes...)
	var ws struct{ ID string }
	c.Do("POST", "/api/v1/workspaces", map[string]string{"name": "Canary"}).Must(t, 201).JSON(t, &ws)
	var key struct{ Secret string }
	c.Do("POST", "/api/v1/workspaces/"+ws.ID+"/api-keys", map[string]string{"name": "ci", "role": "agent"}).Must(t, 201).JSON(t, &key)
	secrets = append(secrets, key.Secret)
	// Use them, failing and succeeding, so that every code path logs.
	a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": "canary@example.com", "password": password + "x"}).Must(t, 401)
	a.Client(t).Do("POST", "/api/v1/auth/login", map[string]string{"email": "canary@example.com", "password": password}).Must(t, 401)
	k := a.Client(t)
	k.Header.Set("Authorization", "Bearer "+key.Secret)
	k.Do("GET", "/api/v1/workspaces/"+ws.ID, nil).Must(t, 200)
	k.Header.Set("Authorization", "Bearer "+key.Secret+"x")
	k.Do("GET", "/api/v1/workspaces/"+ws.ID, nil).Must(t, 401)
	return secrets
}

// Promise P-30: a dump of every table reveals no secret: not the password,
// the session token, the TOTP seed, the recovery codes nor the API key.
func TestDatabaseDumpHoldsNoSecrets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		secrets := plant(t, a)
		dump := dbtest.DumpText(t, d)
		if !strings.Contains(dump, "canary@example.com") {
			t.Fatal("the dump does not look complete: the user's e-mail is missing")
		}
		for _, s := range secrets {
			for _, form := range canaries(s) {
				if strings.Contains(dump, form) {
					t.Errorf("database dump contains a secret (%.6s…)", form)
				}
			}
		}
	})
}

// Promise P-36: logs carry no passwords, tokens, codes or e-mail addresses.
func TestLogsHoldNoSecretsOrPersonalData(t *testing.T) {
	a := apptest.New(t, dbtest.SQLite(t))
	secrets := plant(t, a)
	a.Client(t).Do("POST", "/api/v1/auth/signup", `{"email":"canary2@example.com","password":"`).Must(t, 400)
	logs := a.Logs.String()
	if !strings.Contains(logs, `"route":"POST /api/v1/auth/signup"`) {
		t.Fatalf("access log missing; got:\n%s", logs)
	}
	for _, s := range append(secrets, "canary@example.com", "canary2@example.com") {
		if strings.Contains(logs, s) {
			t.Errorf("log output contains %.8s…", s)
		}
	}
}

// Promise P-29: health and metrics answer, and metrics carry no personal data.
func TestHealthReadyAndMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d)
		plant(t, a)
		c := a.Client(t)
		c.Do("GET", "/healthz", nil).Must(t, 200)
		c.Do("GET", "/readyz", nil).Must(t, 200)
		m := c.Do("GET", "/metrics", nil).Must(t, 200)
		for _, want := range []string{"parley_http_requests_total", `route="POST /api/v1/auth/signup"`, "parley_jobs", "go_goroutines"} {
			if !bytes.Contains(m.Body, []byte(want)) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if bytes.Contains(m.Body, []byte("@example.com")) || bytes.Contains(m.Body, []byte("/workspaces/0")) {
			t.Error("metrics contain personal data or object IDs")
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Request-ID"} {
			if m.Header.Get(h) == "" {
				t.Errorf("no %s header", h)
			}
		}
	})
}

func TestRunCommands(t *testing.T) {
	var out, errs bytes.Buffer
	if code := app.Run(t.Context(), []string{"version"}, func(string) string { return "" }, &out, &errs); code != 0 || !strings.HasPrefix(out.String(), "parley ") {
		t.Fatalf("version: %d %q %q", code, out.String(), errs.String())
	}
	out.Reset()
	if code := app.Run(t.Context(), []string{"help"}, func(string) string { return "" }, &out, &errs); code != 0 || !strings.Contains(out.String(), "PARLEY_DATABASE_URL") {
		t.Fatalf("help: %d %q", code, out.String())
	}
	errs.Reset()
	env := map[string]string{"PARLEY_TRIAL_DAYS": "soon", "PARLEY_MASTER_KEY": "c2hvcnQ="}
	if code := app.Run(t.Context(), []string{"serve"}, func(k string) string { return env[k] }, &out, &errs); code != 2 ||
		!strings.Contains(errs.String(), "PARLEY_TRIAL_DAYS") || !strings.Contains(errs.String(), "PARLEY_MASTER_KEY") {
		t.Fatalf("bad config: %d %q", code, errs.String())
	}
	if code := app.Run(t.Context(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errs); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
	dir := t.TempDir()
	out.Reset()
	if code := app.Run(t.Context(), []string{"migrate", "-data-dir", dir}, func(string) string { return "" }, &out, &errs); code != 0 || !strings.Contains(out.String(), "applied") {
		t.Fatalf("migrate: %d %q %q", code, out.String(), errs.String())
	}
}
