package metasim

import (
	"slices"
	"time"
)

// Messaging windows (reference §2.4).
const (
	standardWindow   = 24 * time.Hour
	humanAgentWindow = 7 * 24 * time.Hour
)

// deprecatedTags answer error 100 since April 27, 2026 (reference §2.3).
var deprecatedTags = []string{"CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE"}

// sendParams are the Send API's top-level parameters; anything else is
// refused (a misplaced "metadata" would otherwise be lost silently).
var sendParams = []string{
	"recipient", "messaging_type", "tag", "message", "sender_action",
	"notification_type", "persona_id", "reply_to", "access_token", "appsecret_proof",
}

type sendResponse struct {
	RecipientID  string `json:"recipient_id"`
	MessageID    string `json:"message_id,omitempty"`
	AttachmentID string `json:"attachment_id,omitempty"`
}

// send answers POST /{page-id}/messages and /me/messages. Callers hold
// s.mu.
func (s *Sim) send(c *call, pg *page) result {
	now := s.now()
	if s.overRate(pg.id, now) {
		return fail(errRateLimit())
	}
	if !c.tok.has("pages_messaging") {
		return fail(errPermission("pages_messaging"))
	}
	for _, name := range c.p.names() {
		if !slices.Contains(sendParams, name) {
			if name == "metadata" {
				return fail(paramErr("Param metadata is not a Send API parameter: set message[metadata]"))
			}
			return fail(paramErr("Param %s is not a valid Send API parameter", name))
		}
	}

	pr, e := recipientOf(c, pg)
	if e != nil {
		return fail(e)
	}

	_, hasMsg := c.p.raw("message")
	action := c.p.get("sender_action")
	switch {
	case hasMsg && action != "":
		return fail(paramErr("param message and sender_action cannot be sent in the same request"))
	case !hasMsg && action == "":
		return fail(paramErr("Must send either message or sender_action"))
	case action != "":
		return s.senderAction(c, pg, pr, action, now)
	}

	mt, tag := c.p.get("messaging_type"), c.p.get("tag")
	if e := checkMessagingType(mt, tag); e != nil {
		return fail(e)
	}

	msgRaw, _ := c.p.raw("message")
	msg, e := s.validateMessage(pg, msgRaw)
	if e != nil {
		return fail(e)
	}
	nt := c.p.get("notification_type")
	switch nt {
	case "", "REGULAR", "SILENT_PUSH", "NO_PUSH":
	default:
		return fail(paramErr("param notification_type must be one of {REGULAR, SILENT_PUSH, NO_PUSH}"))
	}
	if c.p.has("persona_id") {
		return fail(paramErr("param persona_id is not a valid persona of this page"))
	}
	var replyTo string
	if raw, ok := c.p.raw("reply_to"); ok {
		var rt struct {
			MID string `json:"mid"`
		}
		if err := decodeStrict(raw, &rt); err != nil || rt.MID == "" {
			return fail(paramErr("param reply_to must be {\"mid\": …}"))
		}
		if pg.mids[rt.MID] != pr.psid {
			return fail(paramErr("param reply_to[mid] is not a message of this conversation"))
		}
		replyTo = rt.MID
	}

	if pr.Unreachable {
		return fail(errUnreachable())
	}
	window := standardWindow
	if mt == "MESSAGE_TAG" {
		window = humanAgentWindow
	}
	if !inWindow(pr.lastInbound, now, window) {
		return fail(errWindow())
	}

	mid := randMID()
	pg.mids[mid] = pr.psid
	resp := sendResponse{RecipientID: pr.psid, MessageID: mid}
	if msg.reusable != nil {
		resp.AttachmentID = s.newAttachment(pg, msg.reusable.typ, msg.reusable.url)
	}
	sent := Sent{
		PageID: pg.id, PSID: pr.psid, MessagingType: mt, Tag: tag, Message: msg.raw,
		MID: mid, Metadata: msg.metadata, ReplyTo: replyTo, NotificationType: nt, At: now,
	}
	s.sent = append(s.sent, sent)
	s.sentCount[pg.id]++
	s.sentCount[""]++
	if s.echoesFor(pg) {
		echo := s.echoBody(pg, pr.psid, mid, msg, now)
		c.after = append(c.after, func() { s.deliverAsync(echo) })
	}
	if s.onSend != nil {
		fn := s.onSend
		c.after = append(c.after, func() { fn(sent) })
	}
	return answer(resp)
}

// recipientOf reads the Send API recipient: a PSID of the page.
func recipientOf(c *call, pg *page) (*person, *apiError) {
	raw, ok := c.p.raw("recipient")
	if !ok {
		return nil, paramErr("param recipient must be non-empty.")
	}
	var rcpt struct {
		ID                        string `json:"id"`
		UserRef                   string `json:"user_ref"`
		CommentID                 string `json:"comment_id"`
		PostID                    string `json:"post_id"`
		PhoneNumber               string `json:"phone_number"`
		NotificationMessagesToken string `json:"notification_messages_token"`
	}
	if err := decodeStrict(raw, &rcpt); err != nil {
		return nil, paramErr("param recipient must be an object with an id")
	}
	if rcpt.ID == "" {
		if rcpt.UserRef != "" || rcpt.CommentID != "" || rcpt.PostID != "" || rcpt.PhoneNumber != "" || rcpt.NotificationMessagesToken != "" {
			return nil, paramErr("param recipient: only recipient[id] (a PSID) is supported by the simulator")
		}
		return nil, paramErr("param recipient[id] must be non-empty.")
	}
	pr := pg.people[rcpt.ID]
	if pr == nil {
		return nil, errNoUser()
	}
	return pr, nil
}

// checkMessagingType applies the messaging_type and tag rules (2026: only
// HUMAN_AGENT remains).
func checkMessagingType(mt, tag string) *apiError {
	switch mt {
	case "RESPONSE", "UPDATE":
		if tag != "" {
			return paramErr("param tag can only be used with messaging_type MESSAGE_TAG")
		}
	case "MESSAGE_TAG":
		switch {
		case tag == "":
			return paramErr("param tag is required for messaging_type MESSAGE_TAG")
		case slices.Contains(deprecatedTags, tag):
			return paramErr("The message tag %s is no longer supported (deprecated on April 27, 2026)", tag)
		case tag != "HUMAN_AGENT":
			return paramErr("param tag must be one of {HUMAN_AGENT}")
		}
	case "":
		return paramErr("param messaging_type is required: one of {RESPONSE, UPDATE, MESSAGE_TAG}")
	default:
		return paramErr("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
	}
	return nil
}

// inWindow reports whether now is less than window after the last
// inbound event (never, if there was none).
func inWindow(last, now time.Time, window time.Duration) bool {
	return !last.IsZero() && now.Sub(last) < window
}

func (s *Sim) senderAction(c *call, pg *page, pr *person, action string, now time.Time) result {
	switch action {
	case "typing_on", "typing_off", "mark_seen":
	default:
		return fail(paramErr("param sender_action must be one of {typing_on, typing_off, mark_seen}"))
	}
	if pr.Unreachable {
		return fail(errUnreachable())
	}
	if !inWindow(pr.lastInbound, now, standardWindow) {
		return fail(errWindow())
	}
	s.actions = append(s.actions, Action{PageID: pg.id, PSID: pr.psid, Action: action, At: now})
	return answer(sendResponse{RecipientID: pr.psid})
}

// echoesFor reports whether sends on the page are echoed. Callers hold
// s.mu.
func (s *Sim) echoesFor(pg *page) bool {
	if s.noEchoes {
		return false
	}
	return !s.enforceSubs || slices.Contains(pg.subscribed, "message_echoes")
}

// echoBody builds the message_echoes webhook for a send: from the page to
// the person, is_echo, the app's ID as a JSON number, the metadata and
// the same mid.
func (s *Sim) echoBody(pg *page, psid, mid string, msg *outMessage, now time.Time) []byte {
	ms := now.UnixMilli()
	item := messagingItem{
		Sender: idRef{pg.id}, Recipient: idRef{psid}, Timestamp: ms,
		Message: &messageEv{
			IsEcho: true, AppID: jsonNumber(s.appID), Metadata: msg.metadata, MID: mid,
			Text: msg.text, Attachments: msg.attachments,
		},
	}
	b, _ := MetaJSON(envelope{Object: "page", Entry: []entry{{ID: pg.id, Time: ms, Messaging: []messagingItem{item}}}})
	return b
}
