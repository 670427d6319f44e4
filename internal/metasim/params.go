package metasim

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// params are a request's parameters: query string, form body
// (urlencoded or multipart) and top-level JSON body fields, looked up in
// that order, as Graph accepts all three.
type params struct {
	query url.Values
	form  url.Values
	json  map[string]json.RawMessage
	files map[string][]byte
}

// get returns a parameter as text ("" when absent).
func (p *params) get(name string) string {
	if v, ok := p.query[name]; ok && len(v) > 0 {
		return v[0]
	}
	if v, ok := p.form[name]; ok && len(v) > 0 {
		return v[0]
	}
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
	return ""
}

// raw returns a parameter as JSON: a JSON body field as it is, a text
// parameter as the JSON it contains (form posts send objects as JSON
// strings) or, when it is not JSON, as a JSON string.
func (p *params) raw(name string) (json.RawMessage, bool) {
	if raw, ok := p.json[name]; ok {
		return raw, true
	}
	var text string
	if v, ok := p.query[name]; ok && len(v) > 0 {
		text = v[0]
	} else if v, ok := p.form[name]; ok && len(v) > 0 {
		text = v[0]
	} else {
		return nil, false
	}
	t := strings.TrimSpace(text)
	if t != "" && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(t)) {
		return json.RawMessage(t), true
	}
	b, _ := json.Marshal(text)
	return b, true
}

// has reports whether the parameter is present anywhere.
func (p *params) has(name string) bool {
	_, ok := p.raw(name)
	return ok
}

// names lists every parameter name (for rejecting unknown ones).
func (p *params) names() []string {
	var out []string
	for k := range p.query {
		out = append(out, k)
	}
	for k := range p.form {
		out = append(out, k)
	}
	for k := range p.json {
		out = append(out, k)
	}
	for k := range p.files {
		out = append(out, k)
	}
	return out
}

func parseParams(r *http.Request, body []byte) (params, *apiError) {
	p := params{query: r.URL.Query()}
	ct, ctParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
	case ct == "application/x-www-form-urlencoded":
		f, err := url.ParseQuery(string(body))
		if err != nil {
			return p, paramErr("The request body is not a valid form")
		}
		p.form = f
	case ct == "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"])
		form, err := mr.ReadForm(maxBody)
		if err != nil {
			return p, paramErr("The request body is not a valid multipart form")
		}
		p.form = url.Values(form.Value)
		p.files = map[string][]byte{}
		for name, fhs := range form.File {
			if len(fhs) == 0 {
				continue
			}
			f, err := fhs[0].Open()
			if err != nil {
				continue
			}
			b, _ := io.ReadAll(f)
			f.Close()
			p.files[name] = b
		}
		form.RemoveAll()
	case ct == "application/json" || trimmed[0] == '{':
		if err := json.Unmarshal(trimmed, &p.json); err != nil {
			return p, paramErr("The request body is not valid JSON")
		}
	}
	return p, nil
}

// tokenFrom finds the access token: Authorization header, then the
// access_token parameter.
func tokenFrom(r *http.Request, p *params) (value, source string) {
	if h := r.Header.Get("Authorization"); h != "" {
		for _, scheme := range []string{"Bearer ", "OAuth "} {
			if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
				return strings.TrimSpace(h[len(scheme):]), "header"
			}
		}
	}
	if v := p.query.Get("access_token"); v != "" {
		return v, "query"
	}
	if v := p.form.Get("access_token"); v != "" {
		return v, "form"
	}
	if raw, ok := p.json["access_token"]; ok {
		var v string
		if json.Unmarshal(raw, &v) == nil && v != "" {
			return v, "body"
		}
	}
	return "", ""
}
