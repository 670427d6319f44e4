package metasim

import (
	"context"
	"fmt"
	"io"
)

// Run starts a standalone simulator on addr with a demo user, page and
// person, prints how to point Parley at it, and serves until ctx ends.
// It is `parley dev metasim`.
func Run(ctx context.Context, addr string, out io.Writer) error {
	return RunWith(ctx, addr, out, Options{})
}

// RunWith is Run with options (e.g. the webhook URL of a running Parley).
func RunWith(ctx context.Context, addr string, out io.Writer, o Options) error {
	s := New(o)
	defer s.Close()
	u := s.AddUser("Demo Admin")
	pg := s.AddPage(u.ID, "Parley Demo Page")
	psid := s.AddPerson(pg.ID, Person{FirstName: "Ada", LastName: "Lovelace", Locale: "en_GB"})
	base, err := s.Start(addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `Meta simulator listening on %[1]s (Graph API %[2]s)

Point Parley at it:
  PARLEY_META_GRAPH_URL=%[1]s
  PARLEY_META_DIALOG_URL=%[1]s
  PARLEY_META_GRAPH_VERSION=%[2]s
  PARLEY_META_APP_ID=%[3]s
  PARLEY_META_APP_SECRET=%[4]s

Demo user:   %[5]s (id %[6]s) — log in through the dialog
Demo page:   %[7]s (id %[8]s)
Page token:  %[9]s
Demo person: Ada Lovelace (PSID %[10]s)

Then tell the simulator where Parley's webhook is and write as Ada:
  curl -d '{"url":"http://127.0.0.1:8080/webhooks/meta"}' %[1]s/_sim/webhook
  curl -d '{"page_id":"%[8]s","psid":"%[10]s","text":"Hello"}' %[1]s/_sim/messages
  curl %[1]s/_sim/sent
`, base, s.version, s.appID, s.appSecret, u.Name, u.ID, pg.Name, pg.ID, pg.Token, psid)
	<-ctx.Done()
	return nil
}
