package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of ClientOptions.
const (
	DefaultOutboundTimeout = 30 * time.Second
	DefaultOutboundMaxBody = 10 << 20 // 10 MiB
)

var (
	// ErrBlocked is the cause of every request the guarded client refuses to
	// make: a scheme other than http/https, or a destination whose resolved
	// address is loopback, private, link-local, metadata or otherwise not
	// public, or a public address on a port other than 80/443. Test for it
	// with errors.Is; the message is deliberately generic, so it tells a
	// tenant nothing about the network behind Parley.
	ErrBlocked = errors.New("httpx: outbound destination not allowed")
	// ErrBodyTooLarge is returned by reads of a response body beyond
	// ClientOptions.MaxBody.
	ErrBodyTooLarge = errors.New("httpx: response body too large")
)

// ClientOptions configure NewClient. The zero value is a strict client:
// public addresses on ports 80 and 443 only, 30 s, 10 MiB.
type ClientOptions struct {
	// Timeout bounds the whole exchange, reading the body included, so a
	// server that trickles or never ends its response is cut off (default
	// DefaultOutboundTimeout).
	Timeout time.Duration
	// MaxBody caps how many bytes of a response body can be read; reading
	// beyond returns ErrBodyTooLarge (default DefaultOutboundMaxBody).
	MaxBody int64
	// AllowHosts are hosts the operator configured (the Graph API host, an
	// LLM endpoint), dialled even when they resolve to a loopback or private
	// address and on any port. An entry is "host" (any port) or "host:port";
	// it matches the URL's host exactly, case-insensitively, never a
	// subdomain. The operator trusts these names, DNS included.
	AllowHosts []string
	// AllowCIDRs are address ranges the operator allows although they are
	// private (a self-hoster's LAN), on any port.
	AllowCIDRs []netip.Prefix
	// AllowPorts are ports allowed on public addresses besides 80 and 443.
	AllowPorts []int
	// Log, when set, records every blocked attempt (host and address only:
	// never the URL, whose query may carry credentials).
	Log *slog.Logger
}

// NewClient returns the guarded HTTP client that every outbound call in
// Parley must use (security.md §3.I): the destination is checked on the
// address actually dialled, after DNS resolution, so neither a hostname
// resolving to a private address nor DNS rebinding reaches the inside;
// redirects are returned to the caller, never followed; proxy environment
// variables are ignored; and bodies and time are capped.
func NewClient(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultOutboundTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultOutboundMaxBody
	}
	g := &guard{
		dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		cidrs:  slices.Clone(o.AllowCIDRs),
		ports:  map[int]bool{80: true, 443: true},
		log:    o.Log,
	}
	for _, p := range o.AllowPorts {
		g.ports[p] = true
	}
	for _, h := range o.AllowHosts {
		if e, ok := parseHostEntry(h); ok {
			g.hosts = append(g.hosts, e)
		}
	}
	base := &http.Transport{
		Proxy:                 nil, // never HTTP(S)_PROXY: a proxy would dial on our behalf, unchecked
		DialContext:           g.dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: &guardedTransport{base: base, maxBody: o.MaxBody},
		Timeout:   o.Timeout,
		// A redirect is a new destination chosen by the server; the caller
		// sees the 3xx and decides (security.md I-5).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hostEntry is one AllowHosts entry; port 0 means any port.
type hostEntry struct {
	host string
	port int
}

func parseHostEntry(s string) (hostEntry, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return hostEntry{}, false
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return hostEntry{}, false
		}
		return hostEntry{host: normHost(h), port: n}, true
	}
	return hostEntry{host: normHost(strings.Trim(s, "[]"))}, true
}

// normHost lower-cases a host name and drops a trailing dot, so
// "Graph.Example." and "graph.example" compare equal.
func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// guard dials outbound connections, refusing destinations that are not
// allowed.
type guard struct {
	dialer net.Dialer
	hosts  []hostEntry
	cidrs  []netip.Prefix
	ports  map[int]bool
	log    *slog.Logger
}

// dial is the transport's DialContext. addr is the URL's host:port, before
// resolution; the check of the resolved address runs in the dialer's
// Control hook, once per address tried, just before connect(2).
func (g *guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: bad address", ErrBlocked)
	}
	if g.hostAllowed(host, port) {
		return g.dialer.DialContext(ctx, network, addr)
	}
	d := g.dialer
	d.Control = func(network, address string, _ syscall.RawConn) error {
		return g.check(host, network, address)
	}
	return d.DialContext(ctx, network, addr)
}

func (g *guard) hostAllowed(host, port string) bool {
	h := normHost(host)
	p, _ := strconv.Atoi(port)
	for _, e := range g.hosts {
		if e.host == h && (e.port == 0 || e.port == p) {
			return true
		}
	}
	return false
}

// check decides on one resolved address ("ip:port") about to be connected.
func (g *guard) check(host, network, address string) error {
	reason := ""
	ap, err := netip.ParseAddrPort(address)
	switch {
	case network != "tcp" && network != "tcp4" && network != "tcp6":
		reason = "network " + network
	case err != nil:
		reason = "unparsable address"
	default:
		ip := ap.Addr().Unmap().WithZone("")
		switch {
		case g.cidrAllowed(ip):
			return nil
		case !PublicAddr(ip):
			reason = "non-public address"
		case !g.ports[int(ap.Port())]:
			reason = "port " + strconv.Itoa(int(ap.Port()))
		default:
			return nil
		}
	}
	if g.log != nil {
		g.log.Warn("outbound request blocked", "host", host, "address", address, "reason", reason)
	}
	return fmt.Errorf("%w (%s)", ErrBlocked, reason)
}

func (g *guard) cidrAllowed(ip netip.Addr) bool {
	for _, p := range g.cidrs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// reserved are ranges that are neither private nor loopback in netip's
// sense but still must not be reached from a tenant-controlled URL.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"; 0.0.0.0 reaches localhost on Linux
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (and Alibaba's metadata 100.100.100.200)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: embeds an IPv4 address that may be private
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// PublicAddr reports whether ip is a public unicast address that a
// tenant-supplied URL may reach: not loopback, private (10/8, 172.16/12,
// 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata
// address, fe80::/10), multicast, unspecified, CGNAT or another reserved
// range. An IPv4-mapped IPv6 address is judged as the IPv4 address it maps.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// guardedTransport refuses schemes other than http and https and caps the
// response body.
type guardedTransport struct {
	base    http.RoundTripper
	maxBody int64
}

func (t *guardedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL == nil || (r.URL.Scheme != "http" && r.URL.Scheme != "https") {
		if r.Body != nil {
			r.Body.Close() // a RoundTripper must close the body, even on error
		}
		return nil, fmt.Errorf("%w (scheme)", ErrBlocked)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: t.maxBody}
	return resp, nil
}

// cappedBody returns ErrBodyTooLarge once more than the cap has been read,
// like http.MaxBytesReader does for request bodies.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Ask for one byte more than allowed, to tell "exactly the cap" from
	// "beyond the cap".
	if int64(len(p))-1 > b.left {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) <= b.left {
		b.left -= int64(n)
		b.err = err
		return n, err
	}
	n = int(b.left)
	b.left = 0
	b.err = ErrBodyTooLarge
	return n, b.err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
