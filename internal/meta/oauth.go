package meta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Token is an OAuth access token from a Facebook Login exchange.
type Token struct {
	AccessToken string
	TokenType   string
	// ExpiresIn is the lifetime in seconds; 0 when Meta gave none.
	ExpiresIn int64
}

type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   number `json:"expires_in"`
}

// DialogURL returns the Facebook Login dialog to send the browser to
// (meta-platform.md §5 step 1). state must be an unguessable value bound to
// the person's session, checked when they come back to redirectURI.
func (c *Client) DialogURL(redirectURI, state string, scopes []string) string {
	q := url.Values{
		"client_id":     {c.appID},
		"redirect_uri":  {redirectURI},
		"state":         {state},
		"response_type": {"code"},
	}
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, ","))
	}
	return c.dialog + "/" + c.version + "/dialog/oauth?" + q.Encode()
}

// ExchangeCode trades the code of the Login callback for a short-lived user
// token: GET /{v}/oauth/access_token with the app's ID and secret.
// redirectURI must be exactly the one given to DialogURL.
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (Token, error) {
	if c.appID == "" || c.secret == "" {
		return Token{}, fmt.Errorf("meta: exchange code: app id and secret are not configured")
	}
	q := url.Values{"client_id": {c.appID}, "redirect_uri": {redirectURI}, "client_secret": {c.secret}, "code": {code}}
	return c.token(ctx, "exchange code", q, code)
}

// ExchangeLongLived trades a short-lived user token for a long-lived one
// (about 60 days): GET /{v}/oauth/access_token?grant_type=fb_exchange_token.
// Page tokens read with a long-lived user token do not expire.
func (c *Client) ExchangeLongLived(ctx context.Context, shortToken string) (Token, error) {
	if c.appID == "" || c.secret == "" {
		return Token{}, fmt.Errorf("meta: exchange long-lived token: app id and secret are not configured")
	}
	q := url.Values{"grant_type": {"fb_exchange_token"}, "client_id": {c.appID}, "client_secret": {c.secret}, "fb_exchange_token": {shortToken}}
	return c.token(ctx, "exchange long-lived token", q, shortToken)
}

// token performs an OAuth exchange. Meta documents these as GET requests
// with the secret and code in the query; nothing of that URL reaches an
// error (do scrubs them and drops the *url.Error).
func (c *Client) token(ctx context.Context, op string, q url.Values, secret string) (Token, error) {
	var out tokenJSON
	if err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/oauth/access_token", query: q, secrets: []string{secret}}, &out); err != nil {
		return Token{}, err
	}
	if out.AccessToken == "" {
		return Token{}, fmt.Errorf("meta: %s: no access token in the answer", op)
	}
	return Token{AccessToken: out.AccessToken, TokenType: out.TokenType, ExpiresIn: int64(out.ExpiresIn)}, nil
}
