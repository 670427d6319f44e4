package httpx_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
)

// target is a local HTTP server that counts the TCP connections it accepts
// and the requests it serves, to prove a refused request never reached it.
type target struct {
	srv   *httptest.Server
	conns atomic.Int64
	reqs  atomic.Int64
}

func newTarget(t *testing.T, h http.HandlerFunc) *target {
	t.Helper()
	tg := &target{}
	tg.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.reqs.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	tg.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			tg.conns.Add(1)
		}
	}
	tg.srv.Start()
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *target) port() string {
	_, p, _ := net.SplitHostPort(tg.srv.Listener.Addr().String())
	return p
}

func (tg *target) untouched(t *testing.T) {
	t.Helper()
	if c, r := tg.conns.Load(), tg.reqs.Load(); c != 0 || r != 0 {
		t.Errorf("target saw %d connections and %d requests; want none", c, r)
	}
}

func get(c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// syncBuffer is a log sink safe for the dialer's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Security §3.I I-1, I-2, I-3, I-8: internal destinations, however they
// are spelled, are refused before any TCP connection is made. Loopback
// cases point at a live server, so a broken guard would show up as a
// connection there.
func TestOutboundBlocksInternalDestinations(t *testing.T) {
	tg := newTarget(t, nil)
	p := tg.port()
	var logs syncBuffer
	c := httpx.NewClient(httpx.ClientOptions{
		Timeout: 5 * time.Second, // only reached if the guard fails open on an unroutable address
		Log:     slog.New(slog.NewJSONHandler(&logs, nil)),
		// Allow-listing a public name must not open the door to an
		// address spelled around it (I-8).
		AllowHosts: []string{"example.com", "evil"},
	})
	for _, tc := range []struct {
		name, url string
		// dns: the name may simply not resolve here; any error will do,
		// as long as nothing is connected.
		dns bool
	}{
		// I-1
		{"loopback", "http://127.0.0.1:" + p + "/?access_token=CANARY", false},
		{"localhost (I-3: a name resolving to loopback)", "http://localhost:" + p + "/", false},
		{"unspecified", "http://0.0.0.0:" + p + "/", false},
		{"ipv6 loopback", "http://[::1]:" + p + "/", false},
		{"ipv4-mapped ipv6 loopback", "http://[::ffff:127.0.0.1]:" + p + "/", false},
		{"10/8", "http://10.0.0.1/", false},
		{"172.16/12", "http://172.16.0.1/", false},
		{"192.168/16", "http://192.168.1.1/", false},
		{"cgnat", "http://100.64.0.1/", false},
		{"aws metadata", "http://169.254.169.254/latest/meta-data/", false},
		{"aws metadata ipv6", "http://[fd00:ec2::254]/", false},
		{"alibaba metadata", "http://100.100.100.200/", false},
		{"gcp metadata name", "http://metadata.google.internal/", true},
		{"multicast", "http://224.0.0.1/", false},
		{"link-local ipv6", "http://[fe80::1]/", false},
		// I-2: alternative spellings of 127.0.0.1 (a C resolver may decode them)
		{"decimal", "http://2130706433:" + p + "/", true},
		{"hex", "http://0x7f000001:" + p + "/", true},
		{"octal", "http://0177.0.0.1:" + p + "/", true},
		{"short", "http://127.1:" + p + "/", true},
		// I-8: parser confusion; the host actually dialled is checked
		{"userinfo", "http://evil@127.0.0.1:" + p + "/", false},
		{"userinfo naming an allowed host", "http://example.com@127.0.0.1:" + p + "/", false},
		{"fragment", "http://127.0.0.1:" + p + "#@example.com", false},
		{"ipv6 zone", "http://[fe80::1%25lo]:" + p + "/", false},
		{"trailing dot name", "http://localhost.:" + p + "/", true},
		{"trailing dot ip", "http://127.0.0.1.:" + p + "/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := get(c, tc.url)
			if err == nil {
				t.Fatalf("GET %s: no error", tc.url)
			}
			if !tc.dns && !errors.Is(err, httpx.ErrBlocked) {
				t.Fatalf("GET %s: %v; want ErrBlocked", tc.url, err)
			}
		})
	}
	// A backslash is not a host character: refused while parsing.
	if _, err := get(c, `http://example.com\@127.0.0.1:`+p+`/`); err == nil {
		t.Error("backslash URL: no error")
	}
	tg.untouched(t)
	out := logs.String()
	if !strings.Contains(out, "outbound request blocked") {
		t.Errorf("blocked attempts were not logged: %s", out)
	}
	if strings.Contains(out, "CANARY") {
		t.Errorf("the log holds the URL's query: %s", out)
	}
}

// The operator's allow list opens exactly what it names.
func TestOutboundAllowLists(t *testing.T) {
	tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	p := tg.port()
	for _, tc := range []struct {
		name  string
		opt   httpx.ClientOptions
		url   string
		allow bool
	}{
		{"cidr", httpx.ClientOptions{AllowCIDRs: loopback}, "http://127.0.0.1:" + p + "/", true},
		{"host:port", httpx.ClientOptions{AllowHosts: []string{"127.0.0.1:" + p}}, "http://127.0.0.1:" + p + "/", true},
		{"host, any port", httpx.ClientOptions{AllowHosts: []string{"127.0.0.1"}}, "http://127.0.0.1:" + p + "/", true},
		{"name", httpx.ClientOptions{AllowHosts: []string{"LocalHost."}}, "http://localhost:" + p + "/", true},
		{"host on another port", httpx.ClientOptions{AllowHosts: []string{"127.0.0.1:1"}}, "http://127.0.0.1:" + p + "/", false},
		{"other cidr", httpx.ClientOptions{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, "http://127.0.0.1:" + p + "/", false},
		{"name is not its address", httpx.ClientOptions{AllowHosts: []string{"localhost"}}, "http://127.0.0.1:" + p + "/", false},
		{"no subdomains", httpx.ClientOptions{AllowHosts: []string{"host"}}, "http://localhost:" + p + "/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Timeout = 5 * time.Second
			resp, err := get(httpx.NewClient(tc.opt), tc.url)
			if tc.allow {
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %v; want 200", tc.url, err)
				}
				return
			}
			if !errors.Is(err, httpx.ErrBlocked) {
				t.Fatalf("GET %s: %v; want ErrBlocked", tc.url, err)
			}
		})
	}
}

// Security §3.I I-5: a redirect, even to an allowed host, is handed back to
// the caller, never followed.
func TestOutboundDoesNotFollowRedirects(t *testing.T) {
	second := newTarget(t, nil)
	for _, loc := range []string{"http://169.254.169.254/latest/meta-data/", second.srv.URL + "/next"} {
		t.Run(loc, func(t *testing.T) {
			first := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, loc, http.StatusFound)
			})
			c := httpx.NewClient(httpx.ClientOptions{AllowCIDRs: loopback, Timeout: 5 * time.Second})
			resp, err := get(c, first.srv.URL+"/")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != loc {
				t.Fatalf("got %d to %q; want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	second.untouched(t)
}

// Security §3.I I-6: only http and https, and on public addresses only the
// web ports.
func TestOutboundSchemesAndPorts(t *testing.T) {
	tg := newTarget(t, nil)
	c := httpx.NewClient(httpx.ClientOptions{AllowCIDRs: loopback, Timeout: 5 * time.Second})
	for _, u := range []string{
		"file:///etc/passwd",
		"gopher://127.0.0.1:" + tg.port() + "/_x",
		"ftp://127.0.0.1:" + tg.port() + "/",
		"data:text/plain,hello",
		"jar:http://127.0.0.1:" + tg.port() + "/x.jar!/",
		// Documentation addresses are not public either, so use a real
		// public one; the guard refuses before connecting, so no network is
		// needed.
		"http://93.184.215.14:22/",
		"http://93.184.215.14:25/",
		"http://93.184.215.14:6379/",
		"https://93.184.215.14:5432/",
	} {
		t.Run(u, func(t *testing.T) {
			if _, err := get(c, u); !errors.Is(err, httpx.ErrBlocked) {
				t.Fatalf("GET %s: %v; want ErrBlocked", u, err)
			}
		})
	}
	tg.untouched(t)
}

// Security §3.I I-11: response bombs are cut off at the size cap or the
// time limit.
func TestOutboundResponseBombs(t *testing.T) {
	const limit = 64 << 10
	chunk := bytes.Repeat([]byte("x"), 4096)
	endless := func(w http.ResponseWriter, r *http.Request) {
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	t.Run("endless chunked stream", func(t *testing.T) {
		tg := newTarget(t, endless)
		readCapped(t, tg.srv.URL, limit)
	})
	t.Run("5 GB declared", func(t *testing.T) {
		tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5000000000")
			endless(w, r)
		})
		readCapped(t, tg.srv.URL, limit)
	})
	t.Run("exactly the cap", func(t *testing.T) {
		tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("y"), limit)) })
		c := httpx.NewClient(httpx.ClientOptions{AllowCIDRs: loopback, MaxBody: limit, Timeout: 30 * time.Second})
		resp, err := c.Get(tg.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || len(b) != limit {
			t.Fatalf("read %d bytes, %v; want %d, nil", len(b), err, limit)
		}
	})

	// The slow cases end when the client's time limit fires; the servers
	// hang until the test releases them.
	release := make(chan struct{})
	t.Run("no headers ever", func(t *testing.T) {
		tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		c := httpx.NewClient(httpx.ClientOptions{AllowCIDRs: loopback, Timeout: 300 * time.Millisecond})
		_, err := c.Get(tg.srv.URL)
		if !isTimeout(err) {
			t.Fatalf("got %v; want a timeout", err)
		}
	})
	t.Run("slowloris body", func(t *testing.T) {
		tg := newTarget(t, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("a"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		c := httpx.NewClient(httpx.ClientOptions{AllowCIDRs: loopback, Timeout: 300 * time.Millisecond})
		resp, err := c.Get(tg.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); !isTimeout(err) {
			t.Fatalf("read: %v; want a timeout", err)
		}
	})
	close(release)
}

func readCapped(t *testing.T, u string, limit int64) {
	t.Helper()
	c := httpx.NewClient(httpx.ClientOptions{AllowCIDRs: loopback, MaxBody: limit, Timeout: 30 * time.Second})
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if !errors.Is(err, httpx.ErrBodyTooLarge) || n != limit {
		t.Fatalf("read %d bytes, %v; want %d, ErrBodyTooLarge", n, err, limit)
	}
	// Reading on keeps failing.
	if _, err := resp.Body.Read(make([]byte, 10)); !errors.Is(err, httpx.ErrBodyTooLarge) {
		t.Fatalf("second read: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"8.8.8.8", true},
		{"93.184.215.14", true},
		{"157.240.1.35", true},
		{"2a03:2880:f12f:83:face:b00c::25de", true},
		{"::ffff:8.8.8.8", true},
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.0.1", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"169.254.169.254", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"::", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false},
		{"fd00::1", false},
		{"fd00:ec2::254", false},
		{"fc00::1", false},
		{"fe80::1", false},
		{"ff02::1", false},
		{"64:ff9b::a00:1", false},
		{"2002:7f00:1::", false},
		{"2001:0:4136:e378::1", false},
		{"2001:db8::1", false},
	} {
		if got := httpx.PublicAddr(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("PublicAddr(%s) = %v; want %v", tc.ip, got, tc.want)
		}
	}
}

// The refusal says nothing about what is behind the address: the same
// message whether or not something listens there.
func TestOutboundBlockedErrorIsGeneric(t *testing.T) {
	tg := newTarget(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	c := httpx.NewClient(httpx.ClientOptions{Timeout: 5 * time.Second})
	_, e1 := get(c, tg.srv.URL)
	_, e2 := get(c, "http://"+closed+"/")
	if e1 == nil || e2 == nil {
		t.Fatal("want errors")
	}
	strip := func(err error) string {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return err.Error()
	}
	if a, b := strip(e1), strip(e2); a != b {
		t.Errorf("listening: %q, closed: %q; want the same message", a, b)
	}
	if s := fmt.Sprint(e1); !strings.Contains(s, "not allowed") {
		t.Errorf("error %q does not say the destination is not allowed", s)
	}
}
