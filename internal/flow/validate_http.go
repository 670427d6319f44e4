package flow

import (
	"encoding/json"
	"slices"
	"strings"
)

// http checks an http node.
func (v *validator) http(n Node, h *HTTPNode) {
	if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, h.Method) {
		v.nodeErr(n, "method", "uses the method “%s”; use GET, POST, PUT, PATCH or DELETE.", h.Method)
	}
	v.url(n, "url", h.URL)
	for i, hd := range h.Headers {
		f := index("headers", i)
		switch {
		case !validHeaderName(hd.Name):
			v.nodeErr(n, f+".name", "has the header name “%s”, which is not valid.", truncate(hd.Name, 40))
		case reservedHeader(hd.Name):
			v.nodeErr(n, f+".name", "sets the header “%s”, which Parley sets itself.", hd.Name)
		case slices.IndexFunc(h.Headers, func(o Header) bool { return strings.EqualFold(o.Name, hd.Name) }) != i:
			v.nodeErr(n, f+".name", "sets the header “%s” twice.", hd.Name)
		}
		switch {
		case strings.ContainsAny(hd.Value, "\r\n\x00"):
			v.nodeErr(n, f+".value", "has a header value with a line break, which is not allowed.")
		case hd.Secret && hd.Value == "":
			v.nodeErr(n, f+".value", "has the secret header “%s” without its value; enter it again.", hd.Name)
		}
		v.template(n, f+".value", hd.Value)
	}
	if len(h.Body) > 0 {
		switch {
		case h.Method == "GET" || h.Method == "DELETE":
			v.nodeErr(n, "body", "sends a body with %s; only POST, PUT and PATCH send one.", h.Method)
		case len(h.Body) > MaxBodyBytes:
			v.nodeErr(n, "body", "has a body larger than %d KiB.", MaxBodyBytes>>10)
		case !json.Valid(h.Body):
			v.nodeErr(n, "body", "has a body that is not valid JSON.")
		default:
			v.template(n, "body", string(h.Body))
		}
	}
	if h.Timeout != "" {
		if d, err := h.Timeout.Value(); err != nil {
			v.nodeErr(n, "timeout", "has the timeout “%s”: %v.", h.Timeout, err)
		} else if d <= 0 || d > MaxHTTPTimeout {
			v.nodeErr(n, "timeout", "waits %s for an answer; use at most 30s.", h.Timeout)
		}
	}
	for i, m := range h.Map {
		f := index("map", i)
		if !validPath(m.Path) {
			v.nodeErr(n, f+".path", "reads the response path “%s”; write names and list positions separated by dots, like data.items.0.name.", truncate(m.Path, 60))
		}
		if m.Field == "" && m.Var == "" {
			v.nodeErr(n, f, "reads a response value but saves it nowhere: give a field or a var.")
		}
		if m.Field != "" {
			v.field(n, f+".field", m.Field)
		}
		if m.Var != "" && !validID(m.Var) {
			v.nodeErr(n, f+".var", "saves to the variable “%s”; use 1 to 64 letters, digits, - or _.", truncate(m.Var, 40))
		}
	}
}

// reservedHeader reports whether a header is the HTTP client's to set,
// never a flow's: framing and hop-by-hop headers, which a flow could use
// to smuggle requests or reach a proxy.
func reservedHeader(name string) bool {
	name = strings.ToLower(name)
	switch name {
	case "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "expect":
		return true
	}
	return strings.HasPrefix(name, "proxy-")
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validPath reports whether s is a response path: dot-separated
// segments of letters, digits, - or _.
func validPath(s string) bool {
	if s == "" || strings.Count(s, ".") >= maxMapPath {
		return false
	}
	for seg := range strings.SplitSeq(s, ".") {
		if !validID(seg) {
			return false
		}
	}
	return true
}
