package flow

import (
	"net/url"
	"strings"
)

// KeepSecrets returns doc with the empty values of its secret headers
// filled from prev, the stored document it replaces or stands for: the API
// and exports never show secret values (Document.Redact), so a document
// that went through them comes back with "" where the secret was. The
// store applies it when a draft is saved; the preview applies it to the
// unsaved document it runs.
//
// A value is kept only for a header of the same node ID and name (letter
// case ignored) in a node that still calls the same origin (scheme, host
// and port): whoever edits a flow may change where it calls, but then
// must enter the secret again, so nobody can have a stored secret sent to
// a server of their choosing. doc is not changed; nodes that get values
// are copied.
func KeepSecrets(doc, prev Document) Document {
	type key struct{ node, header string }
	type secret struct{ origin, value string }
	old := map[key]secret{}
	for _, n := range prev.Nodes {
		h, ok := n.Body.(*HTTPNode)
		if !ok || h == nil {
			continue
		}
		for _, hd := range h.Headers {
			if hd.Secret && hd.Value != "" {
				old[key{n.ID, strings.ToLower(hd.Name)}] = secret{origin(h.URL), hd.Value}
			}
		}
	}
	if len(old) == 0 {
		return doc
	}
	out := doc
	out.Nodes = nil
	for i, n := range doc.Nodes {
		h, ok := n.Body.(*HTTPNode)
		if !ok || h == nil {
			continue
		}
		var c *HTTPNode
		for j, hd := range h.Headers {
			s, found := old[key{n.ID, strings.ToLower(hd.Name)}]
			if !hd.Secret || hd.Value != "" || !found || s.origin == "" || s.origin != origin(h.URL) {
				continue
			}
			if c == nil {
				cp := *h
				cp.Headers = append([]Header(nil), h.Headers...)
				c = &cp
			}
			c.Headers[j].Value = s.value
		}
		if c == nil {
			continue
		}
		if out.Nodes == nil {
			out.Nodes = append([]Node(nil), doc.Nodes...)
		}
		out.Nodes[i].Body = c
	}
	if out.Nodes == nil {
		out.Nodes = doc.Nodes
	}
	return out
}

// origin returns scheme://host[:port] of an http node's URL, lower-cased,
// or "" when it has none.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}
