package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is everything an operator can set. Each field maps to one PARLEY_*
// environment variable and one flag of the same name in kebab case (the flag
// wins). The zero-configuration defaults run a complete instance on SQLite in
// ./data.
type Config struct {
	// Addr is the listen address of the HTTP server. PARLEY_ADDR, default
	// 127.0.0.1:8080.
	Addr string
	// BaseURL is the public URL people and platforms reach Parley at; it is
	// used in links and decides whether cookies are Secure (https). Default
	// http://<Addr>. PARLEY_BASE_URL.
	BaseURL *url.URL
	// DataDir holds the SQLite database, the generated master key and local
	// media (DataDir/media, encrypted; replicas on PostgreSQL must share
	// it). PARLEY_DATA_DIR, default ./data.
	DataDir string
	// DatabaseURL selects the database: empty means SQLite in DataDir,
	// postgres://… means PostgreSQL. PARLEY_DATABASE_URL.
	DatabaseURL string
	// MasterKey is the 32-byte root key (base64 in PARLEY_MASTER_KEY). When
	// empty, a key is generated into DataDir/master.key with mode 0600 on first
	// start. It never goes into the database.
	MasterKey []byte
	// TrialDays is how long a new workspace's trial lasts. PARLEY_TRIAL_DAYS,
	// default 14.
	TrialDays int
	// LogFormat is "text" (default, for a terminal) or "json" (production).
	// PARLEY_LOG_FORMAT.
	LogFormat string
	// LogLevel is debug, info (default), warn or error. PARLEY_LOG_LEVEL.
	LogLevel string
	// BcryptCost is the bcrypt work factor for passwords, at least 12 in
	// production (promise P-01). PARLEY_BCRYPT_COST, default 12. Tests lower it.
	BcryptCost int
	// TrustedProxies lists CIDRs whose X-Forwarded-For is believed for the
	// client address (rate limits, audit log). Comma-separated.
	// PARLEY_TRUSTED_PROXIES, default none.
	TrustedProxies []netip.Prefix
	// ShutdownTimeout bounds the graceful drain of HTTP requests and jobs.
	// PARLEY_SHUTDOWN_TIMEOUT, default 20s.
	ShutdownTimeout time.Duration
	// Workers is the number of job workers in this process.
	// PARLEY_WORKERS, default 4.
	Workers int
	// SessionTTL is the absolute lifetime of a dashboard session.
	// PARLEY_SESSION_TTL, default 12h.
	SessionTTL time.Duration
	// WorkspacePurgeAfter is the grace period between an owner deleting a
	// workspace and its purge, during which they may cancel (promise P-33:
	// at most 30 days, 720h). PARLEY_WORKSPACE_PURGE_AFTER, default 168h.
	WorkspacePurgeAfter time.Duration
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on this
	// loopback address, for an operator or `make bench` to see where time
	// goes. It refuses anything but a loopback host: profiles show
	// internals no one outside the machine should read. PARLEY_DEBUG_ADDR,
	// default off.
	DebugAddr string

	// Meta is the Meta app that Messenger (and later Instagram and
	// WhatsApp) pages connect through.
	Meta Meta
	// Simulator runs the built-in Meta simulator and offers a test page, so
	// Parley can be tried without a Meta app. PARLEY_SIMULATOR: auto (the
	// default: on when PARLEY_META_APP_ID is empty), on or off.
	Simulator bool

	// Operator is who runs this Parley server, as the public privacy,
	// data-deletion instructions and deletion status pages name them
	// (promise P-32).
	Operator Operator
}

// Meta configures the Meta app. Every URL is configurable so tests and the
// built-in simulator can stand in for Meta.
type Meta struct {
	// AppID is the Meta app's ID. PARLEY_META_APP_ID.
	AppID string
	// AppSecret verifies webhook signatures and signs Graph calls
	// (appsecret_proof). PARLEY_META_APP_SECRET.
	AppSecret Secret
	// VerifyToken answers Meta's webhook subscription handshake.
	// PARLEY_META_VERIFY_TOKEN.
	VerifyToken Secret
	// GraphURL is the Graph API base. PARLEY_META_GRAPH_URL, default
	// https://graph.facebook.com.
	GraphURL string
	// GraphVersion is the Graph API version, like v23.0.
	// PARLEY_META_GRAPH_VERSION.
	GraphVersion string
	// DialogURL is where the Facebook Login dialog lives.
	// PARLEY_META_DIALOG_URL, default https://www.facebook.com.
	DialogURL string
}

// Operator names whoever runs the server: the controller of its members'
// data and the processor of their customers'.
type Operator struct {
	// Name is the operator's name (a company or a person).
	// PARLEY_OPERATOR_NAME; empty pages say "the operator of this server".
	Name string
	// Email is where people send privacy and deletion requests.
	// PARLEY_OPERATOR_EMAIL; empty pages offer no address.
	Email string
}

// Secret is a configured secret: it prints as [redacted] in logs, %v and
// %+v, so a dumped Config never shows it.
type Secret string

// String redacts the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the secret in %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue redacts the secret in log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret itself, for the one place that uses it.
func (s Secret) Reveal() string { return string(s) }

// field describes one setting: its variable, its flag, its help text and how
// to parse it into the Config.
type field struct {
	env, help, def string
	set            func(c *Config, v string) error
}

// Fields returns the documented settings in the order the README lists them.
func fields() []field {
	return []field{
		{"PARLEY_ADDR", "HTTP listen address", "127.0.0.1:8080", func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return errors.New("want host:port, like 127.0.0.1:8080")
			}
			c.Addr = v
			return nil
		}},
		{"PARLEY_BASE_URL", "public URL used in links; https makes cookies Secure", "http://<PARLEY_ADDR>", func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("want an absolute http(s) URL, like https://parley.example.com")
			}
			if u.Path == "/" {
				u.Path = ""
			}
			c.BaseURL = u
			return nil
		}},
		{"PARLEY_DATA_DIR", "directory for the SQLite database, master key and media", "./data", func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
		{"PARLEY_DATABASE_URL", "empty for SQLite in the data directory, or a postgres:// URL", "", func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return errors.New("want empty (SQLite) or a postgres:// URL")
			}
			c.DatabaseURL = v
			return nil
		}},
		{"PARLEY_MASTER_KEY", "base64 of 32 random bytes; empty generates data/master.key", "", func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			k, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				k, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
			}
			if err != nil || len(k) != 32 {
				return errors.New("want base64 of exactly 32 bytes (try: openssl rand -base64 32)")
			}
			c.MasterKey = k
			return nil
		}},
		{"PARLEY_TRIAL_DAYS", "length of a new workspace's trial in days", "14", intSetter(func(c *Config, n int) { c.TrialDays = n }, 0, 3650)},
		{"PARLEY_LOG_FORMAT", "text or json", "text", func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New(`want "text" or "json"`)
			}
			c.LogFormat = v
			return nil
		}},
		{"PARLEY_LOG_LEVEL", "debug, info, warn or error", "info", func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return errors.New("want debug, info, warn or error")
		}},
		{"PARLEY_BCRYPT_COST", "bcrypt cost for passwords (12 or more in production)", "12", intSetter(func(c *Config, n int) { c.BcryptCost = n }, 4, 16)},
		{"PARLEY_TRUSTED_PROXIES", "comma-separated CIDRs whose X-Forwarded-For is trusted", "", func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				p, err := netip.ParsePrefix(s)
				if err != nil {
					return fmt.Errorf("%q is not a CIDR like 10.0.0.0/8", s)
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		}},
		{"PARLEY_SHUTDOWN_TIMEOUT", "how long a graceful stop may take", "20s", durationSetter(func(c *Config, d time.Duration) { c.ShutdownTimeout = d })},
		{"PARLEY_WORKERS", "job workers in this process", "4", intSetter(func(c *Config, n int) { c.Workers = n }, 1, 256)},
		{"PARLEY_SESSION_TTL", "absolute lifetime of a dashboard session", "12h", durationSetter(func(c *Config, d time.Duration) { c.SessionTTL = d })},
		{"PARLEY_WORKSPACE_PURGE_AFTER", "grace period before a deleted workspace is purged (at most 720h)", "168h", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 || d > 720*time.Hour {
				return errors.New("want a duration from 1s to 720h (30 days), like 168h")
			}
			c.WorkspacePurgeAfter = d
			return nil
		}},
		{"PARLEY_DEBUG_ADDR", "loopback address for Go's profiler (net/http/pprof); empty is off", "", func(c *Config, v string) error {
			if v == "" {
				c.DebugAddr = ""
				return nil
			}
			host, _, err := net.SplitHostPort(v)
			ip, perr := netip.ParseAddr(host)
			if err != nil || (host != "localhost" && (perr != nil || !ip.IsLoopback())) {
				return errors.New("want a loopback host:port, like 127.0.0.1:6060")
			}
			c.DebugAddr = v
			return nil
		}},
		{"PARLEY_META_APP_ID", "Meta app ID (digits) that pages connect through", "", func(c *Config, v string) error {
			if v != "" && !digits(v) {
				return errors.New("want the app's numeric ID from the Meta App Dashboard")
			}
			c.Meta.AppID = v
			return nil
		}},
		{"PARLEY_META_APP_SECRET", "Meta app secret: verifies webhooks, signs Graph calls", "", func(c *Config, v string) error {
			c.Meta.AppSecret = Secret(v)
			return nil
		}},
		{"PARLEY_META_VERIFY_TOKEN", "token Meta echoes in the webhook subscription handshake", "", func(c *Config, v string) error {
			c.Meta.VerifyToken = Secret(v)
			return nil
		}},
		{"PARLEY_META_GRAPH_URL", "Graph API base URL", "https://graph.facebook.com", urlSetter(func(c *Config, u string) { c.Meta.GraphURL = u })},
		{"PARLEY_META_GRAPH_VERSION", "Graph API version", "v23.0", func(c *Config, v string) error {
			if len(v) < 4 || v[0] != 'v' || !strings.Contains(v, ".") {
				return errors.New("want a version like v23.0")
			}
			c.Meta.GraphVersion = v
			return nil
		}},
		{"PARLEY_META_DIALOG_URL", "Facebook Login dialog base URL", "https://www.facebook.com", urlSetter(func(c *Config, u string) { c.Meta.DialogURL = u })},
		{"PARLEY_SIMULATOR", "built-in Meta simulator with a test page: auto (on without a Meta app), on, off", "auto", func(c *Config, v string) error {
			switch v {
			case "auto":
				c.Simulator = c.Meta.AppID == ""
			case "on":
				c.Simulator = true
			case "off":
				c.Simulator = false
			default:
				return errors.New(`want "auto", "on" or "off"`)
			}
			return nil
		}},
		{"PARLEY_OPERATOR_NAME", "who runs this server, as the public privacy pages name them", "", func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if len(v) > 200 || strings.ContainsAny(v, "\r\n") {
				return errors.New("want one line of at most 200 characters")
			}
			c.Operator.Name = v
			return nil
		}},
		{"PARLEY_OPERATOR_EMAIL", "where people send privacy and data-deletion requests", "", func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v == "" {
				c.Operator.Email = ""
				return nil
			}
			a, err := mail.ParseAddress(v)
			if err != nil || a.Address != v || len(v) > 254 {
				return errors.New("want a plain e-mail address, like privacy@example.com")
			}
			c.Operator.Email = v
			return nil
		}},
	}
}

func urlSetter(set func(*Config, string)) func(*Config, string) error {
	return func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return errors.New("want an absolute http(s) URL without a query")
		}
		set(c, strings.TrimRight(v, "/"))
		return nil
	}
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func intSetter(set func(*Config, int), lo, hi int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d", lo, hi)
		}
		set(c, n)
		return nil
	}
}

func durationSetter(set func(*Config, time.Duration)) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("want a positive duration like 30s or 12h")
		}
		set(c, d)
		return nil
	}
}

// Load builds the Config from the environment and then the flags in args
// (flags win). Every invalid value is reported, each naming its variable.
func Load(args []string, getenv func(string) string, usage io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(usage)
	fl := fields()
	flagVals := make([]*string, len(fl))
	for i, f := range fl {
		flagVals[i] = fs.String(flagName(f.env), "", f.help+" ("+f.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("config: unexpected argument %q", fs.Arg(0))
	}
	var errs []error
	for i, f := range fl {
		v, from := getenv(f.env), f.env
		if *flagVals[i] != "" {
			v, from = *flagVals[i], "-"+flagName(f.env)
		}
		if v == "" {
			v = f.def
			if strings.HasPrefix(v, "http://<") { // derived default
				v = ""
			}
		}
		if err := f.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", from, err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("config: %w", errors.Join(errs...))
	}
	if c.BaseURL == nil {
		c.BaseURL = &url.URL{Scheme: "http", Host: c.Addr}
	}
	return c, nil
}

// flagName turns PARLEY_BASE_URL into base-url.
func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "PARLEY_")), "_", "-")
}

// Secure reports whether Parley is served over TLS, which makes cookies
// Secure and turns on HSTS.
func (c *Config) Secure() bool { return c.BaseURL.Scheme == "https" }

// IsPostgres reports whether the configured database is PostgreSQL.
func (c *Config) IsPostgres() bool { return c.DatabaseURL != "" }

// Doc is one row of the settings table, for the README and `parley help`.
type Doc struct{ Env, Default, Help string }

// Docs lists every setting with its default and help text.
func Docs() []Doc {
	var out []Doc
	for _, f := range fields() {
		out = append(out, Doc{f.env, f.def, f.help})
	}
	return out
}
