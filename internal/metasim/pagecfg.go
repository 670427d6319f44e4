package metasim

import (
	"encoding/json"
	"slices"
	"strings"
)

// pageFields are the webhook fields a page subscription may name
// (reference §2.1, plus "feed" for page comments).
var pageFields = []string{
	"messages", "message_echoes", "message_deliveries", "message_reads", "message_reactions",
	"message_edits", "messaging_postbacks", "messaging_optins", "messaging_referrals",
	"messaging_handovers", "standby", "messaging_policy_enforcement", "messaging_account_linking",
	"messaging_feedback", "messaging_game_plays", "messenger_template_status_update",
	"response_feedback", "send_cart", "feed",
}

// stringList reads a parameter given as a JSON array of strings or as a
// comma-separated string.
func stringList(p *params, name string) ([]string, bool) {
	raw, ok := p.raw(name)
	if !ok {
		return nil, false
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, true
		}
		list = strings.Split(s, ",")
	}
	var out []string
	for _, v := range list {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out, true
}

// subscribeApp answers POST /{page-id}/subscribed_apps.
func (s *Sim) subscribeApp(c *call, pg *page) result {
	if !c.tok.has("pages_manage_metadata") {
		return fail(errPermission("pages_manage_metadata"))
	}
	fields, _ := stringList(&c.p, "subscribed_fields")
	if len(fields) == 0 {
		return fail(paramErr("The parameter subscribed_fields is required."))
	}
	var set []string
	for i, f := range fields {
		if !slices.Contains(pageFields, f) {
			return fail(paramErr("Param subscribed_fields[%d] must be one of {%s} but got \"%s\"", i, strings.Join(pageFields, ", "), f))
		}
		if !slices.Contains(set, f) {
			set = append(set, f)
		}
	}
	pg.subscribed = set
	return success()
}

// unsubscribeApp answers DELETE /{page-id}/subscribed_apps.
func (s *Sim) unsubscribeApp(c *call, pg *page) result {
	if !c.tok.has("pages_manage_metadata") {
		return fail(errPermission("pages_manage_metadata"))
	}
	pg.subscribed = nil
	return success()
}

type subscribedApp struct {
	Category         string   `json:"category"`
	Link             string   `json:"link"`
	Name             string   `json:"name"`
	ID               string   `json:"id"`
	SubscribedFields []string `json:"subscribed_fields"`
}

// getSubscribedApps answers GET /{page-id}/subscribed_apps.
func (s *Sim) getSubscribedApps(pg *page) result {
	data := []subscribedApp{}
	if pg.subscribed != nil {
		data = append(data, subscribedApp{
			Category: "Business", Link: "https://www.facebook.com/games/?app_id=" + s.appID,
			Name: s.appName, ID: s.appID, SubscribedFields: slices.Clone(pg.subscribed),
		})
	}
	return answer(struct {
		Data []subscribedApp `json:"data"`
	}{data})
}

// uploadAttachment answers POST /me/message_attachments: a media URL (or a
// multipart "filedata" file) saved for reuse, answered with its ID.
func (s *Sim) uploadAttachment(c *call, pg *page) result {
	if !c.tok.has("pages_messaging") {
		return fail(errPermission("pages_messaging"))
	}
	raw, ok := c.p.raw("message")
	if !ok {
		return fail(paramErr("The parameter message is required"))
	}
	var m struct {
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				URL        string `json:"url"`
				IsReusable *bool  `json:"is_reusable"`
			} `json:"payload"`
		} `json:"attachment"`
	}
	if err := decodeStrict(raw, &m); err != nil || m.Attachment == nil {
		return fail(paramErr("Param message must be {\"attachment\": {\"type\", \"payload\"}}"))
	}
	a := m.Attachment
	if !isMediaType(a.Type) {
		return fail(paramErr("Param message[attachment][type] must be one of {image, audio, video, file}"))
	}
	if a.Payload.IsReusable == nil || !*a.Payload.IsReusable {
		return fail(paramErr("Param message[attachment][payload][is_reusable] must be true"))
	}
	_, file := c.p.files["filedata"]
	switch {
	case a.Payload.URL == "" && !file:
		return fail(paramErr("Param message[attachment][payload][url] or filedata is required"))
	case a.Payload.URL != "" && !validURL(a.Payload.URL, false):
		return fail(paramErr("Param message[attachment][payload][url] must be a valid URL"))
	}
	id := s.newAttachment(pg, a.Type, a.Payload.URL)
	return answer(struct {
		AttachmentID string `json:"attachment_id"`
	}{id})
}

func (s *Sim) newAttachment(pg *page, typ, u string) string {
	id := randDigits(15)
	pg.attachments[id] = attachment{typ: typ, url: u}
	return id
}

// handover answers the handover protocol calls with {"success":true}
// after checking the recipient (and the target app of a pass).
func (s *Sim) handover(c *call, pg *page, edge string) result {
	if !c.tok.has("pages_messaging") {
		return fail(errPermission("pages_messaging"))
	}
	raw, ok := c.p.raw("recipient")
	var r struct {
		ID string `json:"id"`
	}
	if !ok || json.Unmarshal(raw, &r) != nil || r.ID == "" {
		return fail(paramErr("param recipient[id] must be non-empty"))
	}
	if pg.people[r.ID] == nil {
		return fail(errNoUser())
	}
	if edge == "pass_thread_control" {
		target := strings.Trim(c.p.get("target_app_id"), `"`)
		if target == "" || strings.Trim(target, "0123456789") != "" {
			return fail(paramErr("param target_app_id must be a valid app ID"))
		}
	}
	if runes(c.p.get("metadata")) > 1000 {
		return fail(paramErr("param metadata must be at most 1000 characters"))
	}
	return success()
}
