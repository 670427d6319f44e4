package metasim

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strings"
)

// serveControl answers the simulator's own endpoints under /_sim/, for
// the standalone simulator (parley dev metasim) and the profile pictures
// it hands out. They are not part of Meta's API and have no
// authentication: listen on loopback only.
//
//	GET  /_sim/state                world: app, pages (with tokens), people
//	POST /_sim/messages             {"page_id","psid","text"} → plays the person writing
//	POST /_sim/webhook              {"url"} → sets the webhook URL
//	GET  /_sim/sent?page_id=…       messages the Send API accepted
//	GET  /_sim/pic/{psid}.png       a profile picture
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/_sim/")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(path, "pic/"):
		writePicture(w, strings.TrimSuffix(strings.TrimPrefix(path, "pic/"), ".png"))
	case r.Method == http.MethodGet && path == "state":
		writeControlJSON(w, http.StatusOK, s.state())
	case r.Method == http.MethodGet && path == "sent":
		sent := s.Sent(r.URL.Query().Get("page_id"))
		if sent == nil {
			sent = []Sent{}
		}
		writeControlJSON(w, http.StatusOK, sent)
	case r.Method == http.MethodPost && path == "webhook":
		var in struct {
			URL string `json:"url"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || !validURL(in.URL, false) {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"url\": \"http(s)://…\"}"})
			return
		}
		s.SetWebhookURL(in.URL)
		writeControlJSON(w, http.StatusOK, map[string]string{"url": in.URL})
	case r.Method == http.MethodPost && path == "messages":
		var in struct {
			PageID string `json:"page_id"`
			PSID   string `json:"psid"`
			Text   string `json:"text"`
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Text == "" {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"page_id\", \"psid\", \"text\"}"})
			return
		}
		mid, status, err := s.SendText(r.Context(), in.PageID, in.PSID, in.Text)
		if err != nil {
			writeControlJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error(), "mid": mid, "status": status})
			return
		}
		writeControlJSON(w, http.StatusOK, map[string]any{"mid": mid, "status": status})
	default:
		http.NotFound(w, r)
	}
}

type statePerson struct {
	PSID      string `json:"psid"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

type statePage struct {
	ID     string        `json:"id"`
	Name   string        `json:"name"`
	Token  string        `json:"token"`
	People []statePerson `json:"people"`
}

type stateDoc struct {
	AppID      string      `json:"app_id"`
	Version    string      `json:"version"`
	WebhookURL string      `json:"webhook_url"`
	Users      []User      `json:"users"`
	Pages      []statePage `json:"pages"`
}

func (s *Sim) state() stateDoc {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := stateDoc{AppID: s.appID, Version: s.version, WebhookURL: s.hookURL, Users: []User{}, Pages: []statePage{}}
	for _, u := range s.users {
		d.Users = append(d.Users, User{ID: u.id, Name: u.name})
	}
	for _, pg := range s.pages {
		sp := statePage{ID: pg.id, Name: pg.name, Token: pg.token, People: []statePerson{}}
		for _, pr := range pg.people {
			sp.People = append(sp.People, statePerson{PSID: pr.psid, FirstName: pr.FirstName, LastName: pr.LastName})
		}
		slices.SortFunc(sp.People, func(a, b statePerson) int { return strings.Compare(a.PSID, b.PSID) })
		d.Pages = append(d.Pages, sp)
	}
	slices.SortFunc(d.Users, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(d.Pages, func(a, b statePage) int { return strings.Compare(a.ID, b.ID) })
	return d
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writePicture draws a 64×64 square in a colour derived from the PSID.
func writePicture(w http.ResponseWriter, psid string) {
	var h uint32 = 2166136261
	for i := 0; i < len(psid); i++ {
		h = (h ^ uint32(psid[i])) * 16777619
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	c := color.RGBA{R: byte(h), G: byte(h >> 8), B: byte(h >> 16), A: 255}
	for y := range 64 {
		for x := range 64 {
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	w.Header().Set("Content-Type", "image/png")
	w.Write(buf.Bytes())
}
