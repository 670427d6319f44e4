package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"sync"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/metasim"
)

// Simulator is the built-in Meta simulator (PARLEY_SIMULATOR), so that
// Parley can be tried without a Meta app: it stands in for the Graph API
// and the Login dialog, and plays the people who write to a test page.
// While it runs, every Messenger page lives in it.
type Simulator struct {
	app *App
	sim *metasim.Sim
	url string

	mu    sync.Mutex
	owner string // the simulated Facebook user who owns test pages
}

// startSimulator starts the simulator on a loopback port and points the
// Meta settings at it. Its app secret is derived from the master key, so
// test pages keep working across restarts.
func startSimulator(a *App) (*Simulator, error) {
	secret := hex.EncodeToString(a.Master.Derive("metasim-app-secret")[:16])
	id := new(big.Int).SetBytes(a.Master.Derive("metasim-app-id")[:7]).String()
	sim := metasim.New(metasim.Options{AppID: id, AppSecret: secret, Now: a.Now, Log: a.Log.With("component", "metasim")})
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the Meta simulator: %w", err)
	}
	verify := make([]byte, 16)
	rand.Read(verify)
	a.Config.Meta = config.Meta{
		AppID: id, AppSecret: config.Secret(secret), VerifyToken: config.Secret(hex.EncodeToString(verify)),
		GraphURL: u, GraphVersion: sim.Version(), DialogURL: u,
	}
	a.Log.Info("the built-in Meta simulator stands in for Meta (PARLEY_SIMULATOR)", "url", u)
	return &Simulator{app: a, sim: sim, url: u}, nil
}

// Sim returns the simulator itself, for tests and benchmarks.
func (s *Simulator) Sim() *metasim.Sim { return s.sim }

func (s *Simulator) listening(baseURL string) { s.sim.SetWebhookURL(baseURL + "/webhooks/meta") }

func (s *Simulator) close() { s.sim.Close() }

// restore puts the connected pages and their people back into the
// simulator after a restart (it keeps its world in memory only).
func (s *Simulator) restore(ctx context.Context) error {
	var pages []struct {
		ID, WorkspaceID, ExternalID, Name string
	}
	if err := s.app.DB.R.NewRaw(`SELECT id, workspace_id, external_id, name FROM channels WHERE status = 'active' AND type = ?`,
		string(channel.Messenger)).Scan(ctx, &pages); err != nil {
		return fmt.Errorf("simulator: restore pages: %w", err)
	}
	for _, p := range pages {
		ch, err := s.app.Channels.Get(ctx, p.WorkspaceID, p.ID)
		if err != nil {
			return err
		}
		tok, err := s.app.Channels.Token(ctx, ch)
		if err != nil {
			continue // needs reconnecting anyway
		}
		s.sim.RestorePage(s.ownerID(), p.ExternalID, p.Name, tok)
		var psids []string
		if err := s.app.DB.R.NewRaw(`SELECT external_id FROM contacts WHERE channel_id = ?`, p.ID).Scan(ctx, &psids); err != nil {
			return fmt.Errorf("simulator: restore people: %w", err)
		}
		for _, psid := range psids {
			s.sim.RestorePerson(p.ExternalID, psid, metasim.Person{FirstName: "Test", LastName: "Customer", Locale: "en_US"})
		}
	}
	return nil
}

func (s *Simulator) ownerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner == "" {
		s.owner = s.sim.AddUser("Test Owner").ID
	}
	return s.owner
}

// ConnectTestPage creates a page in the simulator and connects it to the
// workspace, as pasting its token would.
func (s *Simulator) ConnectTestPage(ctx context.Context, a audit.Actor, workspaceID string) (channel.Channel, error) {
	p := s.sim.AddPage(s.ownerID(), "Test page")
	return s.app.Connect.ConnectToken(ctx, a, workspaceID, p.ID, p.Token)
}

// IsTestPage reports whether the channel is a simulator page; while the
// simulator runs, all of them are.
func (s *Simulator) IsTestPage(ch channel.Channel) bool {
	return ch.Type == channel.Messenger && s.sim.PageToken(ch.ExternalID) != ""
}

// WriteAsCustomer sends text to the page as the simulated person psid (a
// new person when psid is empty), through a signed webhook like Meta's,
// and returns the psid.
func (s *Simulator) WriteAsCustomer(ctx context.Context, ch channel.Channel, psid, text string) (string, error) {
	if psid == "" {
		psid = s.sim.AddPerson(ch.ExternalID, metasim.Person{FirstName: "Sok", LastName: "Dara", Locale: "km_KH"})
	}
	_, status, err := s.sim.SendText(ctx, ch.ExternalID, psid, text)
	if err != nil {
		return "", fmt.Errorf("simulator: write as customer: %w", err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("simulator: Parley answered the webhook with %d", status)
	}
	return psid, nil
}
