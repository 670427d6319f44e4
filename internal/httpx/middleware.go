package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"
)

// HandlerFunc is an HTTP handler that returns an error instead of writing
// one; Serve turns the error into the response.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ErrorWriter renders an error for one surface (JSON for the API, an HTML
// page for the dashboard).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, e *Error)

// Serve adapts h to http.Handler, writing any returned error with write and
// logging internal causes once, with the request ID.
func Serve(log *slog.Logger, write ErrorWriter, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			e := AsError(err)
			if e.Status >= 500 {
				log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "code", e.Code, "err", e.Err)
			}
			write(w, r, e)
		}
	})
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	clientIPKey
	routeKey
)

// RequestID returns the request's ID, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// ClientIP returns the caller's address as decided by RealIP.
func ClientIP(ctx context.Context) netip.Addr {
	a, _ := ctx.Value(clientIPKey).(netip.Addr)
	return a
}

// WithRoute records the matched route pattern for logs and metrics.
func WithRoute(r *http.Request, pattern string) {
	if p, ok := r.Context().Value(routeKey).(*string); ok {
		*p = pattern
	}
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RequestIDs gives every request an ID, echoed in X-Request-ID. An incoming
// X-Request-ID is kept when it is short and plain (from a proxy).
func RequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool {
			return !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
		}) {
			id = newID()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// RealIP decides the client address: the TCP peer, unless the peer is a
// trusted proxy, in which case the right-most untrusted X-Forwarded-For hop.
// A client cannot spoof its address by sending the header itself.
func RealIP(trusted []netip.Prefix) func(http.Handler) http.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := peerAddr(r.RemoteAddr)
			if ip.IsValid() && isTrusted(ip) {
				// Every X-Forwarded-For line counts: some proxies append a
				// line of their own rather than joining the client's.
				hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
					if err != nil {
						break
					}
					ip = a.Unmap()
					if !isTrusted(ip) {
						break
					}
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey, ip)))
		})
	}
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush for server-sent events.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Observer receives one call per finished request, for metrics.
type Observer func(method, route string, status int, d time.Duration)

// AccessLog logs one line per request: method, route pattern (never the raw
// path or query, which can carry identifiers or tokens), status, size and
// duration. It never logs bodies, headers or cookies (promise P-36).
func AccessLog(log *slog.Logger, observe Observer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			route := ""
			r = r.WithContext(context.WithValue(r.Context(), routeKey, &route))
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			if route == "" {
				route = r.Pattern
			}
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			if observe != nil {
				observe(Method(r.Method), route, sw.status, d)
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(r.Context(), level, "http",
				slog.String("request_id", RequestID(r.Context())),
				slog.String("method", Method(r.Method)),
				slog.String("route", route),
				slog.Int("status", sw.status),
				slog.Int("bytes", sw.bytes),
				slog.Duration("duration", d))
		})
	}
}

// Method returns the request method for logs and metric labels: one of the
// standard methods, or OTHER, so a client cannot mint label values.
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// Recover turns a panic into a 500 with the request ID and logs the stack,
// so no input can take the process down.
func Recover(log *slog.Logger, write ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					write(w, r, Internal(fmt.Errorf("panic: %v", v)))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// SecurityHeaders sets the headers every Parley response carries: a strict
// Content-Security-Policy (every asset is Parley's own: promise P-38),
// framing refused, no MIME sniffing, a strict referrer policy, and HSTS when
// served over TLS.
func SecurityHeaders(secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			if secure {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Chain applies middlewares so that the first listed runs first.
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}
