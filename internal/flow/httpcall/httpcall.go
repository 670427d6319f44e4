package httpcall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley/internal/flow"
	"github.com/parleyhq/parley/internal/flow/run"
	"github.com/parleyhq/parley/internal/httpx"
)

// Options configure a Caller.
type Options struct {
	// Outbound are the guarded client's options: an operator's allowed
	// private ranges (AllowCIDRs) and hosts, extra ports, the log of
	// blocked attempts. Timeout and MaxBody are set by the Caller.
	Outbound httpx.ClientOptions
	// UserAgent is sent with every request (default "Parley-Flow/1").
	UserAgent string
}

// Caller makes http nodes' requests through the guarded client. It is
// safe for concurrent use.
type Caller struct {
	client *http.Client
	ua     string
}

var _ run.Caller = (*Caller)(nil)

// New returns a Caller.
func New(o Options) *Caller {
	co := o.Outbound
	// Each call has its node's own deadline (at most flow.MaxHTTPTimeout)
	// through its context; the client's is a backstop.
	co.Timeout = flow.MaxHTTPTimeout + flow.MaxHTTPTimeout/10
	co.MaxBody = run.MaxResponseBytes
	ua := o.UserAgent
	if ua == "" {
		ua = "Parley-Flow/1"
	}
	return &Caller{client: httpx.NewClient(co), ua: ua}
}

// Call implements run.Caller: it sends req within req.Timeout and returns
// the status and the body, whatever the status.
func (c *Caller) Call(ctx context.Context, req run.CallRequest) (run.CallResponse, error) {
	where := origin(req.URL)
	if req.Timeout <= 0 || req.Timeout > flow.MaxHTTPTimeout {
		req.Timeout = flow.DefaultHTTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return run.CallResponse{}, fmt.Errorf("httpcall: %s %s: bad request", req.Method, where)
	}
	for _, h := range req.Headers {
		if dropped(h.Name) {
			continue
		}
		hr.Header.Set(h.Name, h.Value)
	}
	if req.Body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("User-Agent", c.ua)
	res, err := c.client.Do(hr)
	if err != nil {
		return run.CallResponse{}, fmt.Errorf("httpcall: %s %s: %w", req.Method, where, classify(ctx, err))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return run.CallResponse{}, fmt.Errorf("httpcall: %s %s: read answer: %w", req.Method, where, classify(ctx, err))
	}
	return run.CallResponse{Status: res.StatusCode, Body: b}, nil
}

// classify maps a transport error to run's sentinels, or to its bare
// cause: never the *url.Error, whose text holds the whole address.
func classify(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, httpx.ErrBlocked):
		return run.ErrCallBlocked
	case errors.Is(err, httpx.ErrBodyTooLarge):
		return run.ErrCallTooLarge
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return run.ErrCallTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return run.ErrCallTimeout
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// dropped reports whether a header is never sent: those a flow could use
// to talk to a cloud metadata service should a request ever reach one
// (security.md §3.I I-7), besides the framing and hop-by-hop headers that
// validation already refuses.
func dropped(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "expect",
		"metadata", "metadata-flavor", "x-google-metadata-request", "x-identity-header":
		return true
	}
	return strings.HasPrefix(n, "x-aws-ec2-metadata-") || strings.HasPrefix(n, "proxy-")
}

// origin is scheme://host of an address, for errors: never the path or
// the query.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid address)"
	}
	return u.Scheme + "://" + u.Host
}
