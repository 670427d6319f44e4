package metasim

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Run prints what a newcomer needs and serves a working Graph API until
// its context ends.
func TestRun(t *testing.T) {
	pr, pw := io.Pipe()
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, "127.0.0.1:0", pw)
		pw.Close()
	}()
	values := map[string]string{}
	re := regexp.MustCompile(`^\s*(PARLEY_META_GRAPH_URL|PARLEY_META_APP_SECRET)=(\S+)|^Page token:\s+(\S+)`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() && len(values) < 3 {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			if m[1] != "" {
				values[m[1]] = m[2]
			} else {
				values["token"] = m[3]
			}
		}
	}
	go io.Copy(io.Discard, pr)
	if len(values) != 3 {
		t.Fatalf("output lacks settings: %v", values)
	}
	base, tok := values["PARLEY_META_GRAPH_URL"], values["token"]
	r, _ := http.NewRequestWithContext(ctx(t), http.MethodGet,
		base+"/v23.0/me?fields=name&appsecret_proof="+AppSecretProof(values["PARLEY_META_APP_SECRET"], tok), nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"Parley Demo Page"`) {
		t.Fatalf("GET /me: %d %s", resp.StatusCode, b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base + "/_sim/state"); err == nil {
		t.Fatal("still serving after Run returned")
	}
}

func TestStartClose(t *testing.T) {
	s := New(Options{})
	base, err := s.Start("")
	if err != nil || !strings.HasPrefix(base, "http://127.0.0.1:") || s.URL() != base {
		t.Fatalf("%q %v", base, err)
	}
	if _, err := s.Start(""); err == nil {
		t.Fatal("started twice")
	}
	s.Close()
	s.Close()
	if _, err := s.Start(""); err == nil {
		t.Fatal("started after Close")
	}
	if len(s.AppID()) != 15 || strings.Trim(s.AppID(), "0123456789") != "" || len(s.AppSecret()) != 32 || s.Version() != "v23.0" {
		t.Fatalf("defaults: %q %q %q", s.AppID(), s.AppSecret(), s.Version())
	}
}

// RestorePage and RestorePerson put back a world with known IDs and
// tokens (the application restarts with pages it connected before).
func TestRestore(t *testing.T) {
	f := newFixture(t)
	pg := f.s.RestorePage(f.user.ID, "1122334455", "Restored", "EAArestored-token")
	f.s.RestorePerson(pg.ID, "9988776655", Person{FirstName: "Back"})
	f.s.RestorePerson("404", "1", Person{}) // unknown page: ignored
	if pg.ID != "1122334455" || f.s.PageToken(pg.ID) != "EAArestored-token" {
		t.Fatalf("page %+v", pg)
	}
	st, b := f.graph(t, req{path: "/9988776655", token: "EAArestored-token", query: map[string][]string{"fields": {"first_name"}}})
	if m := wantOK(t, st, b); m["first_name"] != "Back" {
		t.Fatalf("%s", b)
	}
	again := f.s.RestorePage(f.user.ID, "1122334455", "Renamed", "EAAnew-token")
	if again.Name != "Renamed" || f.s.PageToken(pg.ID) != "EAAnew-token" {
		t.Fatalf("re-restore %+v", again)
	}
}
