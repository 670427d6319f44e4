package config

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	return Load(args, func(k string) string { return env[k] }, io.Discard)
}

// With nothing set, Parley runs on SQLite in ./data on 127.0.0.1:8080.
func TestDefaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" || c.DatabaseURL != "" || c.IsPostgres() ||
		c.TrialDays != 14 || c.LogFormat != "text" || c.BcryptCost != 12 || c.Workers != 4 ||
		c.SessionTTL != 12*time.Hour || c.ShutdownTimeout != 20*time.Second || c.MasterKey != nil {
		t.Fatalf("defaults = %+v", c)
	}
	if c.BaseURL.String() != "http://127.0.0.1:8080" || c.Secure() {
		t.Fatalf("base URL = %s", c.BaseURL)
	}
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	c, err := load(t, map[string]string{"PARLEY_ADDR": "127.0.0.1:9000", "PARLEY_TRIAL_DAYS": "30"}, "-addr", "0.0.0.0:7000")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:7000" || c.TrialDays != 30 {
		t.Fatalf("got %s, %d", c.Addr, c.TrialDays)
	}
	c, err = load(t, map[string]string{"PARLEY_BASE_URL": "https://parley.example.com/", "PARLEY_MASTER_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "PARLEY_DATABASE_URL": "postgres://u@db/parley", "PARLEY_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7/32"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Secure() || c.BaseURL.String() != "https://parley.example.com" || len(c.MasterKey) != 32 || !c.IsPostgres() || len(c.TrustedProxies) != 2 {
		t.Fatalf("got %+v", c)
	}
}

// Every invalid value fails at start with a message naming its variable,
// all of them at once.
func TestInvalidValuesNameTheirVariable(t *testing.T) {
	bad := map[string]string{
		"PARLEY_ADDR":             "8080",
		"PARLEY_BASE_URL":         "ftp://x",
		"PARLEY_DATABASE_URL":     "mysql://x",
		"PARLEY_MASTER_KEY":       "dG9vIHNob3J0",
		"PARLEY_TRIAL_DAYS":       "-1",
		"PARLEY_LOG_FORMAT":       "xml",
		"PARLEY_LOG_LEVEL":        "loud",
		"PARLEY_BCRYPT_COST":      "40",
		"PARLEY_TRUSTED_PROXIES":  "everyone",
		"PARLEY_SHUTDOWN_TIMEOUT": "soon",
		"PARLEY_WORKERS":          "0",
		"PARLEY_SESSION_TTL":      "-1h",
		"PARLEY_DEBUG_ADDR":       "0.0.0.0:6060", // the profiler is loopback only
	}
	_, err := load(t, bad)
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for k := range bad {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s:\n%v", k, err)
		}
	}
	if _, err := load(t, nil, "-no-such-flag", "x"); err == nil {
		t.Error("unknown flag accepted")
	}
	if _, err := load(t, nil, "stray"); err == nil || !strings.Contains(err.Error(), "stray") {
		t.Errorf("stray argument: %v", err)
	}
}

func TestMetaSettings(t *testing.T) {
	env := map[string]string{"PARLEY_META_APP_ID": "1517776481860111", "PARLEY_META_APP_SECRET": "s3cret-canary", "PARLEY_META_VERIFY_TOKEN": "verify-canary"}
	c, err := Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Simulator {
		t.Error("simulator on (auto) although a Meta app is configured")
	}
	if c.Meta.GraphURL != "https://graph.facebook.com" || c.Meta.GraphVersion != "v23.0" || c.Meta.DialogURL != "https://www.facebook.com" {
		t.Errorf("Meta defaults = %+v", c.Meta)
	}
	if c.Meta.AppSecret.Reveal() != "s3cret-canary" {
		t.Error("app secret not kept")
	}
	// Security §3.L L-3: printing the config never shows a secret.
	for _, form := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c.Meta), fmt.Sprint(c.Meta.AppSecret)} {
		if strings.Contains(form, "canary") {
			t.Errorf("a secret is printed: %s", form)
		}
	}
	c, err = Load(nil, func(string) string { return "" }, io.Discard)
	if err != nil || !c.Simulator {
		t.Fatalf("without a Meta app the simulator is on by default: %v %v", c.Simulator, err)
	}
	for k, v := range map[string]string{"PARLEY_META_APP_ID": "abc", "PARLEY_META_GRAPH_URL": "ftp://x", "PARLEY_META_GRAPH_VERSION": "23", "PARLEY_SIMULATOR": "maybe"} {
		_, err := Load(nil, func(key string) string {
			if key == k {
				return v
			}
			return ""
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v does not name the variable", k, v, err)
		}
	}
}
