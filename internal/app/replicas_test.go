package app_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// Issue 5, real-time across replicas (promise P-24): two Parley processes
// share one PostgreSQL database, as replicas behind a load balancer do. A
// dashboard is connected to the second one's live stream; a customer's
// message arrives through the first one's webhook. The second replica hears
// of it through LISTEN/NOTIFY and tells the dashboard, with the
// conversation's ID and nothing of the message itself.
func TestReplicasShareLiveUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds parley and runs two processes")
	}
	_, dsn := dbtest.PostgresDSN(t) // an empty schema; the first replica migrates it
	bin := filepath.Join(t.TempDir(), "parley")
	build := exec.Command("go", "build", "-o", bin, "./cmd/parley")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/parley: %v\n%s", err, out)
	}

	sim := metasim.New(metasim.Options{})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)

	// Replicas share the database, the master key and the public URL (a
	// session signed by one is valid on the other, as behind a load
	// balancer), and nothing else.
	key := make([]byte, 32)
	rand.Read(key)
	addrA, addrB := freeAddr(t), freeAddr(t)
	env := func(addr string) map[string]string {
		return map[string]string{
			"PARLEY_ADDR":              addr,
			"PARLEY_BASE_URL":          "http://" + addrA,
			"PARLEY_DATA_DIR":          t.TempDir(),
			"PARLEY_DATABASE_URL":      dsn,
			"PARLEY_MASTER_KEY":        base64.StdEncoding.EncodeToString(key),
			"PARLEY_SIMULATOR":         "off",
			"PARLEY_META_APP_ID":       sim.AppID(),
			"PARLEY_META_APP_SECRET":   sim.AppSecret(),
			"PARLEY_META_VERIFY_TOKEN": "replicas-verify-token",
			"PARLEY_META_GRAPH_URL":    simURL,
			"PARLEY_META_DIALOG_URL":   simURL,
			"PARLEY_LOG_LEVEL":         "warn",
			"PARLEY_BCRYPT_COST":       "4",
		}
	}
	startParley(t, bin, env(addrA)) // migrates first
	startParley(t, bin, env(addrB))
	baseA, baseB := "http://"+addrA, "http://"+addrB
	sim.SetWebhookURL(baseA + "/webhooks/meta")

	owner := sim.AddUser("Replica Owner")
	page := sim.AddPage(owner.ID, "Replica page")
	jar, _ := cookiejar.New(nil) // the session cookie goes to both (cookies ignore ports)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	call := func(base, method, path string, in any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, body)
		}
		var out map[string]any
		json.Unmarshal(body, &out)
		return out
	}
	call(baseA, "POST", "/api/v1/auth/signup", map[string]any{"email": "replicas@example.com", "password": "Replica-Passphrase-5c1e", "age_confirmed": true}, http.StatusCreated)
	ws := call(baseA, "POST", "/api/v1/workspaces", map[string]string{"name": "Replicas"}, http.StatusCreated)["id"].(string)
	call(baseA, "POST", "/api/v1/workspaces/"+ws+"/channels", map[string]string{"type": "messenger", "page_id": page.ID, "access_token": page.Token}, http.StatusCreated)

	// The dashboard's live stream, on replica B.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", baseB+"/w/"+ws+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	stream := &http.Client{Jar: jar} // no timeout: the stream stays open
	res, err := stream.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		t.Fatalf("events on replica B: %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	events := make(chan realtime.Event, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev realtime.Event
			if json.Unmarshal([]byte(data), &ev) == nil {
				events <- ev
			}
		}
	}()

	// A customer writes; the webhook reaches replica A only.
	const text = "Is the blue shirt still available?"
	psid := sim.AddPerson(page.ID, metasim.Person{FirstName: "Sokha", LastName: "Chan", Locale: "km_KH"})
	if _, status, err := sim.SendText(t.Context(), page.ID, psid, text); err != nil || status != http.StatusOK {
		t.Fatalf("webhook to replica A: %d %v", status, err)
	}
	deadline := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("replica B's stream ended before the message's event came")
			}
			if ev.WorkspaceID != ws {
				t.Fatalf("replica B sent an event of workspace %q on workspace %q's stream", ev.WorkspaceID, ws)
			}
			if ev.Kind != realtime.KindMessage || ev.ConversationID == "" {
				continue // a conversation or resync hint first is fine
			}
			// The hint names the conversation and carries nothing of the
			// message: the page fetches what its reader may see.
			raw, _ := json.Marshal(ev)
			if strings.Contains(string(raw), "blue shirt") || strings.Contains(string(raw), "Sokha") {
				t.Fatalf("the live event carries personal data: %s", raw)
			}
			conv := call(baseB, "GET", "/api/v1/workspaces/"+ws+"/conversations/"+ev.ConversationID, nil, http.StatusOK)
			if conv["id"] != ev.ConversationID {
				t.Fatalf("replica B cannot read the conversation the event named: %v", conv)
			}
			return
		case <-deadline:
			t.Fatal("replica B's dashboard never heard of the message received by replica A")
		}
	}
}
