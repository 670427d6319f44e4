package meta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SendResponse is the Send API's answer. RecipientID is empty when the
// recipient was not addressed by PSID.
type SendResponse struct {
	RecipientID string
	MessageID   string
}

// Send posts a Send API request (body is the whole JSON document:
// recipient, messaging_type, message or sender_action...) as the Page whose
// token this is: POST /{v}/me/messages.
func (c *Client) Send(ctx context.Context, token string, body any) (SendResponse, error) {
	var out struct {
		RecipientID id `json:"recipient_id"`
		MessageID   id `json:"message_id"`
	}
	err := c.do(ctx, call{op: "send", method: http.MethodPost, path: "/me/messages", token: token, body: body}, &out)
	if err != nil {
		return SendResponse{}, err
	}
	return SendResponse{RecipientID: string(out.RecipientID), MessageID: string(out.MessageID)}, nil
}

// UserProfile is what the User Profile API shares about a person.
type UserProfile struct {
	FirstName  string
	LastName   string
	Locale     string
	ProfilePic string
}

// defaultProfileFields are the fields UserProfile asks for when given none:
// those the Business Asset User Profile Access feature covers. locale needs
// a further permission (pages_user_locale).
const defaultProfileFields = "first_name,last_name,profile_pic"

// UserProfile reads a person's profile by PSID: GET /{v}/{psid}?fields=...
// (default first_name,last_name,profile_pic). Meta answers an empty object
// when it shares nothing, which gives a zero UserProfile and no error.
func (c *Client) UserProfile(ctx context.Context, token, psid string, fields ...string) (UserProfile, error) {
	if !validNode(psid) {
		return UserProfile{}, fmt.Errorf("meta: user profile: invalid user id")
	}
	list := defaultProfileFields
	if len(fields) > 0 {
		list = strings.Join(fields, ",")
	}
	var out struct {
		FirstName  string `json:"first_name"`
		LastName   string `json:"last_name"`
		Locale     string `json:"locale"`
		ProfilePic string `json:"profile_pic"`
	}
	q := url.Values{"fields": {list}}
	if err := c.do(ctx, call{op: "user profile", method: http.MethodGet, path: "/" + psid, query: q, token: token}, &out); err != nil {
		return UserProfile{}, err
	}
	return UserProfile(out), nil
}

// Page is a Facebook Page as Graph names it.
type Page struct {
	ID   string
	Name string
}

type pageJSON struct {
	ID   id     `json:"id"`
	Name string `json:"name"`
}

// Page reads a Page's ID and name: GET /{v}/{page-id}?fields=id,name.
func (c *Client) Page(ctx context.Context, token, pageID string) (Page, error) {
	if !validNode(pageID) {
		return Page{}, fmt.Errorf("meta: page: invalid page id")
	}
	var out pageJSON
	q := url.Values{"fields": {"id,name"}}
	if err := c.do(ctx, call{op: "page", method: http.MethodGet, path: "/" + pageID, query: q, token: token}, &out); err != nil {
		return Page{}, err
	}
	return Page{ID: string(out.ID), Name: out.Name}, nil
}

// Me reads the token's own node: GET /{v}/me?fields=id,name. For a Page
// token that is the Page, which is how a pasted token is checked against the
// Page it claims to be for.
func (c *Client) Me(ctx context.Context, token string) (Page, error) {
	var out pageJSON
	q := url.Values{"fields": {"id,name"}}
	if err := c.do(ctx, call{op: "me", method: http.MethodGet, path: "/me", query: q, token: token}, &out); err != nil {
		return Page{}, err
	}
	return Page{ID: string(out.ID), Name: out.Name}, nil
}

// PageAccount is a Page the user can act for, with its Page token.
type PageAccount struct {
	ID          string
	Name        string
	AccessToken string
	// Tasks are the user's tasks on the Page (MANAGE, MODERATE, MESSAGING...).
	Tasks []string
}

// maxAccountPages bounds how many result pages Accounts follows.
const maxAccountPages = 20

// Accounts lists the Pages of a (long-lived) user token with their Page
// tokens: GET /{v}/me/accounts, following paging.next. The next link is
// followed only on the Graph host, and only for its query (the cursor):
// the request is rebuilt so the token stays in the header. At most 20
// result pages (2000 Pages) are read; the rest is ignored.
func (c *Client) Accounts(ctx context.Context, userToken string) ([]PageAccount, error) {
	q := url.Values{"fields": {"id,name,access_token,tasks"}, "limit": {"100"}}
	var out []PageAccount
	seen := map[string]bool{}
	for range maxAccountPages {
		var res struct {
			Data []struct {
				ID          id       `json:"id"`
				Name        string   `json:"name"`
				AccessToken string   `json:"access_token"`
				Tasks       []string `json:"tasks"`
			} `json:"data"`
			Paging struct {
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.do(ctx, call{op: "accounts", method: http.MethodGet, path: "/me/accounts", query: q, token: userToken}, &res); err != nil {
			return nil, err
		}
		for _, d := range res.Data {
			out = append(out, PageAccount{ID: string(d.ID), Name: d.Name, AccessToken: d.AccessToken, Tasks: d.Tasks})
		}
		if res.Paging.Next == "" || len(res.Data) == 0 {
			break
		}
		next, err := url.Parse(res.Paging.Next)
		if err != nil || !strings.EqualFold(next.Host, c.host) {
			return nil, fmt.Errorf("meta: accounts: paging link leaves the Graph API host")
		}
		q = next.Query()
		// Graph may echo a token in its links; ours goes in the header.
		q.Del("access_token")
		q.Del("appsecret_proof")
		key := q.Encode()
		if seen[key] {
			break
		}
		seen[key] = true
	}
	return out, nil
}

// success is the {"success": true} answer of subscription calls.
type success struct {
	Success flag `json:"success"`
}

// SubscribeApp subscribes Parley's app to the Page's webhooks for fields:
// POST /{v}/{page-id}/subscribed_apps?subscribed_fields=a,b. It accepts
// both {"success":true} and {"success":"true"}.
func (c *Client) SubscribeApp(ctx context.Context, token, pageID string, fields []string) error {
	if !validNode(pageID) {
		return fmt.Errorf("meta: subscribe app: invalid page id")
	}
	var out success
	q := url.Values{"subscribed_fields": {strings.Join(fields, ",")}}
	if err := c.do(ctx, call{op: "subscribe app", method: http.MethodPost, path: "/" + pageID + "/subscribed_apps", query: q, token: token}, &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("meta: subscribe app: Graph did not confirm the subscription")
	}
	return nil
}

// UnsubscribeApp removes Parley's app from the Page's webhooks:
// DELETE /{v}/{page-id}/subscribed_apps.
func (c *Client) UnsubscribeApp(ctx context.Context, token, pageID string) error {
	if !validNode(pageID) {
		return fmt.Errorf("meta: unsubscribe app: invalid page id")
	}
	var out success
	if err := c.do(ctx, call{op: "unsubscribe app", method: http.MethodDelete, path: "/" + pageID + "/subscribed_apps", token: token}, &out); err != nil {
		return err
	}
	if !out.Success {
		return fmt.Errorf("meta: unsubscribe app: Graph did not confirm the removal")
	}
	return nil
}

// SetMessengerProfile sets Page profile properties (get_started, greeting,
// persistent_menu, ice_breakers...): POST /{v}/me/messenger_profile with
// profile as the JSON body.
func (c *Client) SetMessengerProfile(ctx context.Context, token string, profile any) error {
	return c.do(ctx, call{op: "set messenger profile", method: http.MethodPost, path: "/me/messenger_profile", token: token, body: profile}, nil)
}

// DeleteMessengerProfile removes Page profile properties:
// DELETE /{v}/me/messenger_profile with {"fields":[...]}.
func (c *Client) DeleteMessengerProfile(ctx context.Context, token string, fields []string) error {
	body := map[string][]string{"fields": fields}
	return c.do(ctx, call{op: "delete messenger profile", method: http.MethodDelete, path: "/me/messenger_profile", token: token, body: body}, nil)
}

// UploadAttachment asks Meta to fetch a media URL once and keep it reusable:
// POST /{v}/me/message_attachments. typ is image, video, audio or file. It
// returns the attachment ID to send instead of the URL.
func (c *Client) UploadAttachment(ctx context.Context, token, typ, mediaURL string) (string, error) {
	body := map[string]any{"message": map[string]any{"attachment": map[string]any{
		"type":    typ,
		"payload": map[string]any{"url": mediaURL, "is_reusable": true},
	}}}
	var out struct {
		AttachmentID id `json:"attachment_id"`
	}
	if err := c.do(ctx, call{op: "upload attachment", method: http.MethodPost, path: "/me/message_attachments", token: token, body: body}, &out); err != nil {
		return "", err
	}
	if out.AttachmentID == "" {
		return "", fmt.Errorf("meta: upload attachment: no attachment id in the answer")
	}
	return string(out.AttachmentID), nil
}

// validNode reports whether s can be a Graph node ID in a path: Page IDs
// and PSIDs are digits; letters, '_' and '-' are tolerated, nothing that
// could change the path ('/', '.', '?', '%').
func validNode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
