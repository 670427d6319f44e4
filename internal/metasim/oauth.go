package metasim

import (
	"bytes"
	"crypto/hmac"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OAuth lifetimes (reference §5).
const (
	codeTTL          = 10 * time.Minute
	shortTokenTTL    = 2 * time.Hour
	longTokenSeconds = 5183944 // what Meta answers for a long-lived user token
)

// authCode is an authorization code the login dialog issued.
type authCode struct {
	redirectURI string
	userID      string
	scopes      map[string]bool
	expires     time.Time
	used        bool
}

var dialogPage = template.Must(template.New("dialog").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in with Facebook (simulator)</title></head>
<body>
<h1>Log in to {{.AppName}}</h1>
<p>{{.AppName}} is requesting: {{if .Scope}}{{.Scope}}{{else}}public_profile{{end}}</p>
{{range .Users}}<form method="post" action="{{$.Action}}">
<input type="hidden" name="client_id" value="{{$.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{$.RedirectURI}}">
<input type="hidden" name="state" value="{{$.State}}">
<input type="hidden" name="scope" value="{{$.Scope}}">
<input type="hidden" name="config_id" value="{{$.ConfigID}}">
<input type="hidden" name="user_id" value="{{.ID}}">
<button type="submit">Continue as {{.Name}}</button>
</form>
{{else}}<p>The simulator has no users who could log in.</p>
{{end}}<p><a href="{{.CancelURL}}">Cancel</a></p>
</body></html>
`))

var dialogError = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error (simulator)</title></head>
<body><h1>Sorry, something went wrong.</h1><p>{{.}}</p></body></html>
`))

func htmlResult(status int, t *template.Template, data any) result {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return result{status: http.StatusInternalServerError, html: []byte("template error")}
	}
	return result{status: status, html: buf.Bytes()}
}

// checkDialog validates the dialog's parameters as Meta's dialog does,
// returning the error page text or "".
func (s *Sim) checkDialog(p *params) string {
	if p.get("client_id") != s.appID {
		return "Invalid App ID: The provided app ID does not look like a valid app ID."
	}
	ru := p.get("redirect_uri")
	if !validURL(ru, false) {
		return "Can't Load URL: The domain of this URL isn't included in the app's domains."
	}
	if len(s.redirectURIs) > 0 && !slices.Contains(s.redirectURIs, ru) {
		return "URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings."
	}
	if rt := p.get("response_type"); rt != "" && rt != "code" {
		return "The simulator supports only response_type=code."
	}
	return ""
}

// withQuery appends parameters (and Facebook's "#_=_" fragment) to a
// redirect URI.
func withQuery(base string, q url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	v := u.Query()
	for k, vals := range q {
		v[k] = vals
	}
	u.RawQuery = v.Encode()
	u.Fragment = "_=_"
	return u.String()
}

// dialog answers GET /{v}/dialog/oauth: a plain HTML page with a
// "Continue as NAME" button per simulated user and a Cancel link.
func (s *Sim) dialog(c *call) result {
	if msg := s.checkDialog(&c.p); msg != "" {
		return htmlResult(http.StatusBadRequest, dialogError, msg)
	}
	type u struct{ ID, Name string }
	var users []u
	for _, id := range s.order {
		users = append(users, u{id, s.users[id].name})
	}
	cancel := url.Values{
		"error": {"access_denied"}, "error_code": {"200"},
		"error_description": {"Permissions error"}, "error_reason": {"user_denied"},
	}
	if st := c.p.get("state"); st != "" {
		cancel.Set("state", st)
	}
	action := "/dialog/oauth/confirm"
	if first, _, _ := strings.Cut(strings.TrimPrefix(c.path, "/"), "/"); isVersion(first) {
		action = "/" + first + action
	}
	return htmlResult(http.StatusOK, dialogPage, map[string]any{
		"AppName": s.appName, "Users": users, "Action": action,
		"ClientID": c.p.get("client_id"), "RedirectURI": c.p.get("redirect_uri"),
		"State": c.p.get("state"), "Scope": c.p.get("scope"), "ConfigID": c.p.get("config_id"),
		"CancelURL": template.URL(withQuery(c.p.get("redirect_uri"), cancel)),
	})
}

// dialogConfirm answers the "Continue as" button: a single-use code bound
// to the redirect URI, and a redirect back to the app.
func (s *Sim) dialogConfirm(c *call) result {
	if c.r.Method != http.MethodPost {
		return htmlResult(http.StatusMethodNotAllowed, dialogError, "Use the dialog's button.")
	}
	if msg := s.checkDialog(&c.p); msg != "" {
		return htmlResult(http.StatusBadRequest, dialogError, msg)
	}
	uid := c.p.get("user_id")
	if s.users[uid] == nil {
		return htmlResult(http.StatusBadRequest, dialogError, "Unknown user.")
	}
	var scopes map[string]bool
	scope := c.p.get("scope")
	if scope != "" || c.p.get("config_id") == "" {
		// Facebook Login for Business (config_id) grants the
		// configuration's permissions: the simulator grants them all.
		scopes = map[string]bool{"public_profile": true}
		for _, sc := range strings.FieldsFunc(scope, func(r rune) bool { return r == ',' || r == ' ' }) {
			scopes[sc] = true
		}
	}
	code := randCode()
	s.codes[code] = &authCode{
		redirectURI: c.p.get("redirect_uri"), userID: uid, scopes: scopes,
		expires: s.now().Add(codeTTL),
	}
	q := url.Values{"code": {code}}
	if st := c.p.get("state"); st != "" {
		q.Set("state", st)
	}
	return result{redirect: withQuery(c.p.get("redirect_uri"), q)}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in,omitempty"`
}

// accessToken answers GET /oauth/access_token: the code grant and the
// fb_exchange_token grant (long-lived user token).
func (s *Sim) accessToken(c *call) result {
	clientID, secret := c.p.get("client_id"), c.p.get("client_secret")
	switch {
	case clientID == "":
		return fail(newErr(101, 0, "OAuthException", "Missing client_id parameter."))
	case clientID != s.appID:
		return fail(newErr(101, 0, "OAuthException", "Error validating application. Invalid application ID."))
	case secret == "":
		return fail(newErr(100, 0, "OAuthException", "Missing client_secret parameter."))
	case !hmac.Equal([]byte(secret), []byte(s.appSecret)):
		return fail(newErr(100, 0, "OAuthException", "Error validating client secret."))
	}
	now := s.now()
	switch c.p.get("grant_type") {
	case "fb_exchange_token":
		v := c.p.get("fb_exchange_token")
		if v == "" {
			return fail(newErr(100, 0, "OAuthException", "Missing fb_exchange_token parameter."))
		}
		t := s.tokens[v]
		switch {
		case t == nil:
			return fail(errBadToken())
		case t.revoked != 0:
			return fail(errRevoked(t.revoked))
		case !t.expires.IsZero() && !now.Before(t.expires):
			return fail(errExpired(t.expires, now))
		case t.kind != userToken:
			return fail(newErr(100, 0, "OAuthException", "fb_exchange_token must be a user access token."))
		}
		nt := s.newToken(&token{kind: userToken, userID: t.userID, scopes: t.scopes, long: true,
			expires: now.Add(longTokenSeconds * time.Second)})
		return answer(tokenResponse{AccessToken: nt.value, TokenType: "bearer", ExpiresIn: longTokenSeconds})
	case "", "authorization_code":
	default:
		return fail(newErr(100, 0, "OAuthException", "Unsupported grant_type."))
	}
	code := c.p.get("code")
	if code == "" {
		return fail(newErr(100, 0, "OAuthException", "Missing code parameter."))
	}
	ac := s.codes[code]
	switch {
	case ac == nil:
		return fail(newErr(100, 36008, "OAuthException", "Invalid verification code format."))
	case !now.Before(ac.expires):
		return fail(newErr(100, 36007, "OAuthException", "This authorization code has expired."))
	case ac.used:
		return fail(newErr(100, 36009, "OAuthException", "This authorization code has been used."))
	case c.p.get("redirect_uri") != ac.redirectURI:
		return fail(newErr(100, 36008, "OAuthException",
			"Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"))
	}
	ac.used = true
	t := s.newToken(&token{kind: userToken, userID: ac.userID, scopes: ac.scopes, expires: now.Add(shortTokenTTL)})
	return answer(tokenResponse{AccessToken: t.value, TokenType: "bearer", ExpiresIn: int64(shortTokenTTL / time.Second)})
}
