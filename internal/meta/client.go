package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/httpx"
)

// Defaults of Options.
const (
	DefaultGraphURL  = "https://graph.facebook.com"
	DefaultDialogURL = "https://www.facebook.com"
	DefaultVersion   = "v23.0"
)

// maxResponse bounds how much of a Graph response is read, whatever client
// the caller passed. Graph answers are small JSON documents.
const maxResponse = 1 << 20

// Options configure a Client.
type Options struct {
	// GraphURL is the Graph API base URL (default DefaultGraphURL); tests
	// and local trials point it at the simulator.
	GraphURL string
	// Version is the Graph API version path segment (default
	// DefaultVersion).
	Version string
	// DialogURL is the base of the Facebook Login dialog (default
	// DefaultDialogURL).
	DialogURL string
	// AppID and AppSecret identify Parley's Meta app. With AppSecret set,
	// every call carrying a token adds appsecret_proof (meta-platform.md
	// §2.9); the Login exchanges need both.
	AppID, AppSecret string
	// HTTP is the client to call Graph with. It must come from
	// httpx.NewClient; nil builds one that allows the GraphURL host (even
	// on a private address: the operator configured it), with a 10 s limit
	// and 1 MiB bodies.
	HTTP *http.Client
}

// Client calls the Graph API. It is safe for concurrent use.
type Client struct {
	base    string // GraphURL without a trailing slash
	host    string // GraphURL's host[:port], for checking paging links
	version string
	dialog  string
	appID   string
	secret  string
	http    *http.Client
}

// New returns a Client. A malformed GraphURL is not reported here: every
// call then fails, and config validation is where it should be caught.
func New(opt Options) *Client {
	if opt.GraphURL == "" {
		opt.GraphURL = DefaultGraphURL
	}
	if opt.DialogURL == "" {
		opt.DialogURL = DefaultDialogURL
	}
	if opt.Version == "" {
		opt.Version = DefaultVersion
	}
	c := &Client{
		base:    strings.TrimRight(opt.GraphURL, "/"),
		version: strings.Trim(opt.Version, "/"),
		dialog:  strings.TrimRight(opt.DialogURL, "/"),
		appID:   opt.AppID,
		secret:  opt.AppSecret,
		http:    opt.HTTP,
	}
	if u, err := url.Parse(c.base); err == nil {
		c.host = strings.ToLower(u.Host)
	}
	if c.http == nil {
		var allow []string
		if c.host != "" {
			allow = []string{c.host}
		}
		c.http = httpx.NewClient(httpx.ClientOptions{Timeout: 10 * time.Second, MaxBody: maxResponse, AllowHosts: allow})
	}
	return c
}

// call is one Graph request.
type call struct {
	op     string
	method string
	path   string // below the version, starting with "/"
	query  url.Values
	token  string // sent as a Bearer token, with appsecret_proof
	body   any    // JSON-encoded when non-nil
	// secrets are further values of this call (codes, the app secret in a
	// query) to scrub from any error.
	secrets []string
}

// do performs c and decodes a 2xx JSON answer into out (unless out is
// nil). A non-2xx answer is an *Error, a transport failure a *NetError.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	q := url.Values{}
	for k, v := range cl.query {
		q[k] = v
	}
	secrets := append([]string{cl.token}, cl.secrets...)
	if cl.token != "" && c.secret != "" {
		proof := AppSecretProof(c.secret, cl.token)
		q.Set("appsecret_proof", proof)
		secrets = append(secrets, proof)
	}
	if c.secret != "" {
		secrets = append(secrets, c.secret)
	}
	u := c.base + "/" + c.version + cl.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("meta: %s: encode request: %w", cl.op, err)
		}
		body = bytes.NewReader(b)
	}
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		// The URL may hold the secrets; the parse error quotes it.
		return fmt.Errorf("meta: %s: build request: %s", cl.op, scrub(err.Error(), secrets))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return netError(cl.op, err, wrote.Load(), secrets)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	switch {
	case errors.Is(err, httpx.ErrBodyTooLarge) || len(raw) > maxResponse:
		return fmt.Errorf("meta: %s: response too large", cl.op)
	case err != nil:
		// The answer started: Meta received the request.
		return netError(cl.op, err, true, secrets)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("meta: %s: %w", cl.op, graphError(resp.StatusCode, raw, secrets))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("meta: %s: decode response: %w", cl.op, err)
	}
	return nil
}

// graphError decodes a Graph error body. A body that is not one (a proxy's
// HTML page) still yields an *Error with the status.
func graphError(status int, raw []byte, secrets []string) *Error {
	var env struct {
		Error *struct {
			Message     string `json:"message"`
			Type        string `json:"type"`
			Code        number `json:"code"`
			Subcode     number `json:"error_subcode"`
			FBTraceID   string `json:"fbtrace_id"`
			IsTransient bool   `json:"is_transient"`
		} `json:"error"`
	}
	e := &Error{HTTPStatus: status}
	if json.Unmarshal(raw, &env) != nil || env.Error == nil {
		e.Message = http.StatusText(status)
		return e
	}
	g := env.Error
	e.Code, e.Subcode = int(g.Code), int(g.Subcode)
	e.Type = scrub(g.Type, secrets)
	e.Message = scrub(g.Message, secrets)
	e.FBTraceID = scrub(g.FBTraceID, secrets)
	e.Transient = g.IsTransient
	return e
}
