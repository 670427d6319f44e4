package metasim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// profileFields are the Messenger Profile properties, in the order
// Profile reports them.
var profileFields = []string{"get_started", "greeting", "persistent_menu", "ice_breakers", "whitelisted_domains", "account_linking_url"}

func profileObject(pg *page, fields []string) object {
	o := object{}
	for _, f := range fields {
		if v, ok := pg.profile[f]; ok {
			o = append(o, field{f, v})
		}
	}
	return o
}

// setMessengerProfile answers POST /me/messenger_profile.
func (s *Sim) setMessengerProfile(c *call, pg *page) result {
	if !c.tok.has("pages_messaging") {
		return fail(errPermission("pages_messaging"))
	}
	for _, name := range c.p.names() {
		switch name {
		case "access_token", "appsecret_proof", "platform":
		default:
			if !slices.Contains(profileFields, name) {
				return fail(paramErr("Param %s is not a valid Messenger Profile property", name))
			}
		}
	}
	if pl := c.p.get("platform"); pl != "" && pl != "messenger" {
		return fail(paramErr("Param platform must be one of {messenger}"))
	}
	set := map[string]json.RawMessage{}
	for _, name := range profileFields {
		raw, ok := c.p.raw(name)
		if !ok {
			continue
		}
		if e := validateProfileProperty(name, raw); e != nil {
			return fail(e)
		}
		set[name] = compact(raw)
	}
	if len(set) == 0 {
		return fail(paramErr("Requires one of the params: %s", strings.Join(profileFields, ", ")))
	}
	if _, menu := set["persistent_menu"]; menu {
		_, now := set["get_started"]
		_, before := pg.profile["get_started"]
		if !now && !before {
			return fail(paramErr("You must set a Get Started button if you also wish to use persistent menu."))
		}
	}
	for k, v := range set {
		pg.profile[k] = v
	}
	return profileSuccess()
}

// getMessengerProfile answers GET /me/messenger_profile?fields=….
func (s *Sim) getMessengerProfile(c *call, pg *page) result {
	fields := fieldsOf(&c.p)
	if len(fields) == 0 {
		return fail(paramErr("The parameter fields is required."))
	}
	for i, f := range fields {
		if !slices.Contains(profileFields, f) {
			return fail(paramErr("Param fields[%d] must be one of {%s} but got \"%s\"", i, strings.Join(profileFields, ", "), f))
		}
	}
	type resp struct {
		Data []object `json:"data"`
	}
	o := profileObject(pg, fields)
	if len(o) == 0 {
		return answer(resp{Data: []object{}})
	}
	return answer(resp{Data: []object{o}})
}

// deleteMessengerProfile answers DELETE /me/messenger_profile {"fields":[…]}.
func (s *Sim) deleteMessengerProfile(c *call, pg *page) result {
	if !c.tok.has("pages_messaging") {
		return fail(errPermission("pages_messaging"))
	}
	fields, _ := stringList(&c.p, "fields")
	if len(fields) == 0 {
		return fail(paramErr("The parameter fields is required."))
	}
	for i, f := range fields {
		if !slices.Contains(profileFields, f) {
			return fail(paramErr("Param fields[%d] must be one of {%s} but got \"%s\"", i, strings.Join(profileFields, ", "), f))
		}
	}
	_, hasMenu := pg.profile["persistent_menu"]
	if slices.Contains(fields, "get_started") && hasMenu && !slices.Contains(fields, "persistent_menu") {
		return fail(paramErr("You must delete the persistent menu before deleting the Get Started button."))
	}
	for _, f := range fields {
		delete(pg.profile, f)
	}
	return profileSuccess()
}

type menuItem struct {
	Type                string `json:"type"`
	Title               string `json:"title"`
	Payload             string `json:"payload"`
	URL                 string `json:"url"`
	WebviewHeightRatio  string `json:"webview_height_ratio"`
	MessengerExtensions *bool  `json:"messenger_extensions"`
	FallbackURL         string `json:"fallback_url"`
	WebviewShareButton  string `json:"webview_share_button"`
}

type iceBreaker struct {
	Question string `json:"question"`
	Payload  string `json:"payload"`
}

func validateProfileProperty(name string, raw json.RawMessage) *apiError {
	switch name {
	case "get_started":
		var v struct {
			Payload string `json:"payload"`
		}
		if err := decodeStrict(raw, &v); err != nil {
			return paramErr("Param get_started must be an object {\"payload\": …}: %v", err)
		}
		if v.Payload == "" {
			return paramErr("Param get_started[payload] must be a non-empty string")
		}
		if runes(v.Payload) > 1000 {
			return paramErr("Param get_started[payload] must be at most 1000 characters")
		}
	case "greeting":
		var v []struct {
			Locale string `json:"locale"`
			Text   string `json:"text"`
		}
		if err := decodeStrict(raw, &v); err != nil || len(v) == 0 {
			return paramErr("Param greeting must be a non-empty array of {locale, text}")
		}
		seen := map[string]bool{}
		for i, g := range v {
			switch {
			case g.Locale == "":
				return paramErr("Param greeting[%d][locale] is required", i)
			case seen[g.Locale]:
				return paramErr("Param greeting has a duplicate locale %s", g.Locale)
			case g.Text == "":
				return paramErr("Param greeting[%d][text] is required", i)
			case runes(g.Text) > 160:
				return paramErr("Param greeting[%d][text] must be at most 160 characters", i)
			}
			seen[g.Locale] = true
		}
		if !seen["default"] {
			return paramErr("Param greeting must include the default locale")
		}
	case "persistent_menu":
		var v []struct {
			Locale                string     `json:"locale"`
			ComposerInputDisabled *bool      `json:"composer_input_disabled"`
			DisabledSurfaces      []string   `json:"disabled_surfaces"`
			CallToActions         []menuItem `json:"call_to_actions"`
		}
		if err := decodeStrict(raw, &v); err != nil || len(v) == 0 {
			return paramErr("Param persistent_menu must be a non-empty array of menus")
		}
		seen := map[string]bool{}
		for i, m := range v {
			if m.Locale == "" || seen[m.Locale] {
				return paramErr("Param persistent_menu[%d][locale] must be set and unique", i)
			}
			seen[m.Locale] = true
			if len(m.CallToActions) == 0 || len(m.CallToActions) > 20 {
				return paramErr("Param persistent_menu[%d][call_to_actions] must have between 1 and 20 items", i)
			}
			for j, it := range m.CallToActions {
				if e := validateMenuItem(fmt.Sprintf("persistent_menu[%d][call_to_actions][%d]", i, j), it); e != nil {
					return e
				}
			}
		}
		if !seen["default"] {
			return paramErr("Param persistent_menu must include the default locale")
		}
	case "ice_breakers":
		return validateIceBreakers(raw)
	case "whitelisted_domains":
		var v []string
		if err := decodeStrict(raw, &v); err != nil || len(v) == 0 || len(v) > 50 {
			return paramErr("Param whitelisted_domains must be an array of 1 to 50 URLs")
		}
		for i, d := range v {
			if !validURL(d, true) {
				return paramErr("Param whitelisted_domains[%d] must be a valid https URL", i)
			}
		}
	case "account_linking_url":
		var v string
		if err := decodeStrict(raw, &v); err != nil || !validURL(v, true) {
			return paramErr("Param account_linking_url must be a valid https URL")
		}
	}
	return nil
}

func validateMenuItem(path string, it menuItem) *apiError {
	switch {
	case it.Title == "":
		return paramErr("Param %s[title] is required", path)
	case runes(it.Title) > 30:
		return paramErr("Param %s[title] must be at most 30 characters", path)
	}
	switch it.Type {
	case "postback":
		if it.Payload == "" || runes(it.Payload) > 1000 {
			return paramErr("Param %s[payload] must be 1 to 1000 characters", path)
		}
	case "web_url":
		if !validURL(it.URL, false) {
			return paramErr("Param %s[url] must be a valid URL", path)
		}
	default:
		return paramErr("Param %s[type] must be one of {postback, web_url}", path)
	}
	return nil
}

// validateIceBreakers accepts both the legacy flat form
// [{question, payload}] and the localized form
// [{call_to_actions: [{question, payload}], locale}]; at most 4 questions.
func validateIceBreakers(raw json.RawMessage) *apiError {
	var flat []iceBreaker
	var questions [][]iceBreaker
	if decodeStrict(raw, &flat) == nil {
		questions = [][]iceBreaker{flat}
	} else {
		var localized []struct {
			CallToActions []iceBreaker `json:"call_to_actions"`
			Locale        string       `json:"locale"`
		}
		if err := decodeStrict(raw, &localized); err != nil {
			return paramErr("Param ice_breakers must be an array of {question, payload} or of {call_to_actions, locale}")
		}
		for _, l := range localized {
			questions = append(questions, l.CallToActions)
		}
	}
	if len(questions) == 0 {
		return paramErr("Param ice_breakers must not be empty")
	}
	for _, qs := range questions {
		if len(qs) == 0 || len(qs) > 4 {
			return paramErr("Param ice_breakers must have between 1 and 4 questions")
		}
		for i, q := range qs {
			if q.Question == "" || runes(q.Question) > 80 {
				return paramErr("Param ice_breakers[%d][question] must be 1 to 80 characters", i)
			}
			if q.Payload == "" || runes(q.Payload) > 1000 {
				return paramErr("Param ice_breakers[%d][payload] must be 1 to 1000 characters", i)
			}
		}
	}
	return nil
}
