package connect

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/keyring"
	"github.com/parleyhq/parley/internal/meta"
	"github.com/parleyhq/parley/internal/validate"
)

// LoginTTL is how long a Facebook Login may take, from opening the dialog
// to choosing the Pages (the choice gets a fresh LoginTTL after the
// callback).
const LoginTTL = 15 * time.Minute

// maxPagesPerConnect bounds one ConnectPages call.
const maxPagesPerConnect = 100

// LoginPage is a Page the logged-in user manages.
type LoginPage struct {
	ID   string
	Name string
	// Connected: already active in this workspace (connecting it again
	// refreshes its token). Elsewhere: active in another workspace, so it
	// cannot be connected here.
	Connected bool
	Elsewhere bool
}

func userTokenAAD(ws, loginID string) keyring.AAD {
	return keyring.AAD{Workspace: ws, Table: "channel_logins", Column: "user_token", Row: loginID}
}

// BeginLogin starts a Facebook Login for userID in workspace ws and returns
// the dialog URL to send the browser to. The login expires after LoginTTL.
func (s *Service) BeginLogin(ctx context.Context, ws, userID string) (string, error) {
	if err := s.loginEnabled(); err != nil {
		return "", err
	}
	now := s.opt.Now().UTC()
	id := uuid.Must(uuid.NewRandom()).String() // the nonce: random, unlike a v7
	expires := now.Add(LoginTTL)
	_, err := s.d.W.NewRaw(`INSERT INTO channel_logins (id, workspace_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		id, ws, userID, now, expires).Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("connect: begin login: %w", err)
	}
	return s.graph.DialogURL(s.opt.RedirectURL, s.signState(id, ws, expires), s.opt.Scopes), nil
}

// FinishLogin completes the login the callback's state names: it checks
// the state's signature and expiry, that the login exists and belongs to
// userID (the person whose browser came back, so a login link planted by
// someone else cannot attach the victim's Facebook account to the
// planter's login), exchanges the code for a long-lived user token and
// stores it sealed. It returns the workspace and login ID for Pages and
// ConnectPages. Errors: *ConnectError login_invalid (forged, garbled or
// already used), login_expired, login_failed (Meta refused the code),
// graph_unavailable; db.ErrNotFound when the login is not userID's.
func (s *Service) FinishLogin(ctx context.Context, userID, state, code string) (ws, loginID string, err error) {
	if err := s.loginEnabled(); err != nil {
		return "", "", err
	}
	loginID, ws, expires, ok := s.parseState(state)
	if !ok {
		return "", "", &ConnectError{Code: CodeLoginInvalid, Message: "This Facebook login link is not valid. Start again."}
	}
	now := s.opt.Now().UTC()
	if !now.Before(expires) {
		return "", "", &ConnectError{Code: CodeLoginExpired, Message: "This Facebook login took too long. Start again."}
	}
	if code == "" || len(code) > 2048 {
		return "", "", &ConnectError{Code: CodeLoginInvalid, Message: "Facebook sent no login code. Start again."}
	}
	var row struct {
		UserToken []byte    `bun:"user_token"`
		ExpiresAt time.Time `bun:"expires_at"`
	}
	err = s.d.R.NewRaw(`SELECT user_token, expires_at FROM channel_logins WHERE id = ? AND workspace_id = ? AND user_id = ?`,
		loginID, ws, userID).Scan(ctx, &row)
	if err != nil {
		return "", "", fmt.Errorf("connect: finish login: %w", db.NoRows(err))
	}
	if row.UserToken != nil {
		return "", "", &ConnectError{Code: CodeLoginInvalid, Message: "This Facebook login was already completed."}
	}
	if !now.Before(row.ExpiresAt) {
		return "", "", &ConnectError{Code: CodeLoginExpired, Message: "This Facebook login took too long. Start again."}
	}
	short, err := s.graph.ExchangeCode(ctx, code, s.opt.RedirectURL)
	if err != nil {
		return "", "", graphFailure("finish login", CodeLoginFailed, "Facebook did not complete the login", err)
	}
	long, err := s.graph.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		return "", "", graphFailure("finish login", CodeLoginFailed, "Facebook did not complete the login", err)
	}
	sealed, err := s.kr.SealWorkspace(ctx, userTokenAAD(ws, loginID), []byte(long.AccessToken))
	if err != nil {
		return "", "", fmt.Errorf("connect: finish login: %w", err)
	}
	// Only an unfinished login takes the token: two callbacks racing with
	// the same state store one token, and the other gets ErrNotFound.
	err = db.OneRow(s.d.W.NewRaw(`UPDATE channel_logins SET user_token = ?, expires_at = ?
		WHERE id = ? AND workspace_id = ? AND user_id = ? AND user_token IS NULL`,
		sealed, now.Add(LoginTTL), loginID, ws, userID).Exec(ctx))
	if err != nil {
		return "", "", fmt.Errorf("connect: finish login: %w", err)
	}
	return ws, loginID, nil
}

// Pages lists the Pages the login's user manages, marking those already
// connected here or elsewhere. A login of another user or workspace, not
// finished or expired, is db.ErrNotFound.
func (s *Service) Pages(ctx context.Context, ws, userID, loginID string) ([]LoginPage, error) {
	accounts, err := s.loginAccounts(ctx, ws, userID, loginID)
	if err != nil {
		return nil, fmt.Errorf("connect: pages: %w", err)
	}
	out := make([]LoginPage, 0, len(accounts))
	for _, acc := range accounts {
		p := LoginPage{ID: acc.ID, Name: acc.Name}
		ch, err := s.channels.ByAccount(ctx, s.d.R, channel.Messenger, acc.ID)
		switch {
		case errors.Is(err, db.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("connect: pages: %w", err)
		default:
			p.Connected = ch.WorkspaceID == ws
			p.Elsewhere = !p.Connected
		}
		out = append(out, p)
	}
	return out, nil
}

// ConnectPages connects the chosen Pages of the login with their Page
// tokens, then forgets the login (its user token is deleted). Every Page
// is checked first (the user still manages it: else *ConnectError
// page_unavailable; it is not active in another workspace: else
// channel.ErrTakenElsewhere), so a refusal connects none; a failure in the middle (Meta
// refusing one subscription) returns the channels connected so far with the
// error, and keeps the login so the person can try again.
func (s *Service) ConnectPages(ctx context.Context, a audit.Actor, ws, userID, loginID string, pageIDs []string) ([]channel.Channel, error) {
	if len(pageIDs) == 0 {
		return nil, validate.Field("page_ids", "Choose at least one Page.")
	}
	if len(pageIDs) > maxPagesPerConnect {
		return nil, validate.Field("page_ids", fmt.Sprintf("Choose at most %d Pages at a time.", maxPagesPerConnect))
	}
	var chosen []string
	seen := map[string]bool{}
	for _, id := range pageIDs {
		if err := checkPageID("page_ids", id); err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			chosen = append(chosen, id)
		}
	}
	accounts, err := s.loginAccounts(ctx, ws, userID, loginID)
	if err != nil {
		return nil, fmt.Errorf("connect: connect pages: %w", err)
	}
	byID := make(map[string]meta.PageAccount, len(accounts))
	for _, acc := range accounts {
		byID[acc.ID] = acc
	}
	for _, id := range chosen {
		if acc, ok := byID[id]; !ok || acc.AccessToken == "" {
			return nil, &ConnectError{Code: CodePageUnavailable,
				Message: "Page " + id + " is not among the Pages this Facebook login manages."}
		}
		if err := s.notElsewhere(ctx, ws, id); err != nil {
			return nil, err
		}
	}
	asid := s.loginASID(ctx, ws, userID, loginID)
	var out []channel.Channel
	for _, id := range chosen {
		acc := byID[id]
		ch, err := s.connectPage(ctx, a, ws, id, acc.Name, acc.AccessToken)
		if err != nil {
			s.recordOrigin(ctx, ws, userID, asid, out)
			return out, err
		}
		out = append(out, ch)
	}
	s.recordOrigin(ctx, ws, userID, asid, out)
	if _, err := s.d.W.NewRaw(`DELETE FROM channel_logins WHERE id = ? AND workspace_id = ? AND user_id = ?`,
		loginID, ws, userID).Exec(ctx); err != nil {
		return out, fmt.Errorf("connect: connect pages: forget login: %w", err)
	}
	return out, nil
}

// loginToken opens the login's user token.
func (s *Service) loginToken(ctx context.Context, ws, userID, loginID string) (string, error) {
	var sealed []byte
	err := s.d.R.NewRaw(`SELECT user_token FROM channel_logins
		WHERE id = ? AND workspace_id = ? AND user_id = ? AND expires_at > ? AND user_token IS NOT NULL`,
		loginID, ws, userID, s.opt.Now().UTC()).Scan(ctx, &sealed)
	if err != nil {
		return "", db.NoRows(err)
	}
	token, err := s.kr.OpenWorkspace(ctx, userTokenAAD(ws, loginID), sealed)
	if err != nil {
		return "", err
	}
	return string(token), nil
}

// loginAccounts opens the login's user token and lists its Pages.
func (s *Service) loginAccounts(ctx context.Context, ws, userID, loginID string) ([]meta.PageAccount, error) {
	token, err := s.loginToken(ctx, ws, userID, loginID)
	if err != nil {
		return nil, err
	}
	accounts, err := s.graph.Accounts(ctx, token)
	if err != nil {
		return nil, graphFailure("list pages", CodeLoginFailed, "Facebook did not list your Pages", err)
	}
	return accounts, nil
}

// PurgeLogins deletes expired logins, with their user tokens, and returns
// how many. Run it periodically.
func (s *Service) PurgeLogins(ctx context.Context) (int, error) {
	res, err := s.d.W.NewRaw(`DELETE FROM channel_logins WHERE expires_at <= ?`, s.opt.Now().UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("connect: purge logins: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("connect: purge logins: %w", err)
	}
	return int(n), nil
}

func (s *Service) loginEnabled() error {
	if len(s.opt.StateKey) == 0 || s.opt.RedirectURL == "" {
		return &ConnectError{Code: CodeLoginDisabled, Message: "Facebook Login is not configured on this server. Paste a Page access token instead."}
	}
	return nil
}

// The state is base64url("v1|" nonce "|" workspace "|" expiry-unix) "."
// base64url(HMAC-SHA256(StateKey, first segment)). It is not secret, only
// unforgeable: it names the login row, which is what holds anything of
// value, and it carries the expiry so stale callbacks fail without a
// database read.
const stateVersion = "v1"

func (s *Service) signState(id, ws string, expires time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(stateVersion + "|" + id + "|" + ws + "|" + strconv.FormatInt(expires.Unix(), 10)))
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.stateMAC(payload))
}

func (s *Service) stateMAC(payload string) []byte {
	m := hmac.New(sha256.New, s.opt.StateKey)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// parseState verifies a state and returns what it names.
func (s *Service) parseState(state string) (id, ws string, expires time.Time, ok bool) {
	if len(state) > 1024 {
		return "", "", time.Time{}, false
	}
	payload, sigPart, found := strings.Cut(state, ".")
	if !found {
		return "", "", time.Time{}, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(sigPart)
	if err != nil || !hmac.Equal(sig, s.stateMAC(payload)) {
		return "", "", time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", "", time.Time{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 4 || parts[0] != stateVersion || parts[1] == "" || parts[2] == "" {
		return "", "", time.Time{}, false
	}
	unix, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return "", "", time.Time{}, false
	}
	return parts[1], parts[2], time.Unix(unix, 0).UTC(), true
}
