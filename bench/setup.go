package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"time"
)

// apiClient talks to Parley's JSON API as a signed-in person would: the
// session cookie rides in a jar.
type apiClient struct {
	base string
	c    *http.Client
}

func newAPIClient(base string) *apiClient {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &apiClient{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// call sends in as JSON and decodes the answer into out (when not nil). Any
// status but want is an error quoting the answer, which for the API is a
// safe {"error":{…}} body.
func (a *apiClient) call(ctx context.Context, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// pageCred is a simulator Page and the access token its owner would paste.
type pageCred struct{ ID, Token string }

// autoReplyText is the fixed automatic reply every bench page sends.
const autoReplyText = "Thanks! We will get back to you soon."

// setupWorkspace does what a new customer does in the API: sign up, create
// a workspace, connect each Page by its token and give it an automatic
// reply. It returns the workspace ID.
func setupWorkspace(ctx context.Context, base string, pages []pageCred) (string, error) {
	a := newAPIClient(base)
	if err := a.call(ctx, "POST", "/api/v1/auth/signup", map[string]any{
		"email": "bench@example.com", "password": "Bench-Passphrase-4c1d9e", "age_confirmed": true,
	}, nil, http.StatusCreated); err != nil {
		return "", err
	}
	var ws struct{ ID string }
	if err := a.call(ctx, "POST", "/api/v1/workspaces", map[string]string{"name": "Bench"}, &ws, http.StatusCreated); err != nil {
		return "", err
	}
	for _, p := range pages {
		var ch struct{ ID string }
		if err := a.call(ctx, "POST", "/api/v1/workspaces/"+ws.ID+"/channels", map[string]string{
			"type": "messenger", "page_id": p.ID, "access_token": p.Token,
		}, &ch, http.StatusCreated); err != nil {
			return "", err
		}
		if err := a.call(ctx, "PUT", "/api/v1/workspaces/"+ws.ID+"/channels/"+ch.ID+"/settings",
			map[string]string{"auto_reply": autoReplyText}, nil, http.StatusOK); err != nil {
			return "", err
		}
	}
	return ws.ID, nil
}
