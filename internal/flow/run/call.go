package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/flow"
)

// Caller makes the HTTP request of an http node. The application's one
// (package flow/httpcall) goes through the guarded outbound client: SSRF
// checks on the address dialled, no redirects followed, a size cap and the
// node's timeout. This package does no I/O itself.
type Caller interface {
	Call(ctx context.Context, req CallRequest) (CallResponse, error)
}

// CallRequest is the request of an http node, rendered.
type CallRequest struct {
	Method string
	URL    string
	// Headers are the node's headers with their values rendered; secret
	// values opened.
	Headers []flow.Header
	// Body is JSON (sent as application/json), or nil.
	Body    []byte
	Timeout time.Duration
}

// CallResponse is a response the Caller received: any status, the body
// read up to MaxResponseBytes.
type CallResponse struct {
	Status int
	Body   []byte
}

// MaxResponseBytes caps the response body an http node reads; a Caller
// fails a larger one with ErrCallTooLarge.
const MaxResponseBytes = 256 << 10

// Errors a Caller returns (wrapped) so that the author learns what went
// wrong, in words that say nothing of the network behind Parley.
var (
	// ErrCallBlocked: the destination is not allowed (an internal,
	// private or metadata address; another scheme or port).
	ErrCallBlocked = errors.New("run: destination not allowed")
	// ErrCallTooLarge: the response was larger than MaxResponseBytes.
	ErrCallTooLarge = errors.New("run: response too large")
	// ErrCallTimeout: no complete response within the node's timeout.
	ErrCallTimeout = errors.New("run: request timed out")
)

// CallResult is the outcome of a request, the input of InputHTTP.
type CallResult struct {
	Status int
	Body   []byte
	// Err is why the request failed without a response.
	Err error
}

// Result is the CallResult of a Caller's answer.
func Result(res CallResponse, err error) CallResult {
	if err != nil {
		return CallResult{Err: err}
	}
	return CallResult{Status: res.Status, Body: res.Body}
}

// Request renders the request of the http node the session st waits at.
// The runner makes it outside any transaction and steps the session with
// its outcome (InputHTTP). An error means the node's address cannot be
// rendered into one that may be called.
func (p *Program) Request(st State, env Env) (CallRequest, error) {
	if !p.owns(st) || st.Status != StatusWaiting {
		return CallRequest{}, errors.New("run: the session does not wait for a request")
	}
	n, ok := p.node(st.Node)
	if !ok {
		return CallRequest{}, errors.New("run: the session waits at a node that does not exist")
	}
	h, ok := n.Body.(*flow.HTTPNode)
	if !ok {
		return CallRequest{}, errors.New("run: the session does not wait at an http node")
	}
	m := &machine{p: p, env: &env, st: st, contact: env.Contact}
	req := CallRequest{Method: h.Method, URL: renderURL(h.URL, m), Timeout: flow.DefaultHTTPTimeout}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return CallRequest{}, errors.New("run: the node's address is not a valid http or https address")
	}
	if d, err := h.Timeout.Value(); err == nil && d > 0 {
		req.Timeout = min(d, flow.MaxHTTPTimeout)
	}
	for _, hd := range h.Headers {
		v := flow.Render(hd.Value, m)
		if strings.ContainsAny(v, "\r\n\x00") {
			return CallRequest{}, fmt.Errorf("run: the header %s would hold a line break", hd.Name)
		}
		req.Headers = append(req.Headers, flow.Header{Name: hd.Name, Value: v, Secret: hd.Secret})
	}
	if len(h.Body) > 0 {
		body, err := flow.RenderJSON(h.Body, m)
		if err != nil {
			return CallRequest{}, errors.New("run: the node's body is not valid JSON")
		}
		req.Body = body
	}
	return req, nil
}

// httpResult applies the outcome of the request the session waits for:
// a 2xx answer maps response values and leads to Next; anything else
// leads to FailureNext, with a problem for the author.
func (m *machine) httpResult(res CallResult) {
	n, ok := m.waitingAt(StatusWaiting)
	if !ok {
		return
	}
	h, ok := n.Body.(*flow.HTTPNode)
	if !ok {
		return
	}
	m.out.Consumed = true
	if res.Err != nil || res.Status < 200 || res.Status > 299 {
		m.out.Problems = append(m.out.Problems, Problem{Node: n.ID, Message: failure(n.ID, res)})
		m.event(n.ID, EventCompleted)
		m.run(h.FailureNext)
		return
	}
	if len(h.Map) > 0 {
		m.mapResponse(n.ID, h.Map, res.Body)
	}
	m.event(n.ID, EventCompleted)
	m.run(h.Next)
}

// failure says why a request failed, for the author.
func failure(node string, res CallResult) string {
	var why string
	switch {
	case errors.Is(res.Err, ErrCallBlocked):
		why = "its address is not allowed (Parley does not call internal, private or cloud metadata addresses)"
	case errors.Is(res.Err, ErrCallTooLarge):
		why = fmt.Sprintf("the answer was larger than %d KiB", MaxResponseBytes>>10)
	case errors.Is(res.Err, ErrCallTimeout):
		why = "no answer came within its timeout"
	case errors.Is(res.Err, errRender):
		why = "its address, headers or body could not be filled in from the variables"
	case res.Err != nil:
		why = "the server could not be reached"
	case res.Status >= 300 && res.Status < 400:
		why = fmt.Sprintf("the server answered with a redirect (%d), which Parley does not follow", res.Status)
	default:
		why = fmt.Sprintf("the server answered with status %d", res.Status)
	}
	return fmt.Sprintf("The request of node “%s” failed: %s. The flow took its failure branch.", node, why)
}

// mapResponse copies values of a JSON response to flow variables and
// custom fields. A path the response does not have maps nothing.
func (m *machine) mapResponse(node string, maps []flow.Mapping, body []byte) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		m.out.Problems = append(m.out.Problems, Problem{Node: node,
			Message: fmt.Sprintf("The answer to node “%s” is not JSON, so none of its values were saved.", node)})
		return
	}
	for _, mp := range maps {
		v, ok := valueAt(doc, mp.Path)
		if !ok {
			continue
		}
		if mp.Var != "" {
			m.setVar(mp.Var, v)
		}
		if mp.Field != "" {
			m.act(node, flow.Action{Type: flow.ActionSetField, Field: mp.Field, Value: v})
		}
	}
}

// valueAt follows a dotted path into a decoded JSON value and returns what
// it finds as text: strings as they are, numbers with their digits,
// booleans as true or false, objects and lists as compact JSON. Null,
// a missing path and text longer than flow.MaxTextLen give nothing.
func valueAt(v any, path string) (string, bool) {
	for seg := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	var s string
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", false
		}
		s = string(b)
	}
	if utf8.RuneCountInString(s) > flow.MaxTextLen {
		return "", false
	}
	return s, true
}
