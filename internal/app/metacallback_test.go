package app_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/audit"
	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/metacallback"
	"github.com/parleyhq/parley/internal/metasim"
	"github.com/parleyhq/parley/internal/testutil/apptest"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

var (
	dialogFormRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)">(.*?)</form>`)
	dialogInputRE  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	dialogButtonRE = regexp.MustCompile(`<button type="submit">([^<]+)</button>`)
)

// facebookLogin connects the page to ws through the app's Facebook Login
// as the simulator's user fbName clicking "Continue".
func facebookLogin(t *testing.T, a *apptest.App, ws, userID, fbName, pageID string) channel.Channel {
	t.Helper()
	ctx := context.Background()
	dialog, err := a.Connect.BeginLogin(ctx, ws, userID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(dialog)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base, _ := url.Parse(dialog)
	for _, m := range dialogFormRE.FindAllStringSubmatch(string(page), -1) {
		if b := dialogButtonRE.FindStringSubmatch(m[2]); b == nil || b[1] != "Continue as "+fbName {
			continue
		}
		form := url.Values{}
		for _, in := range dialogInputRE.FindAllStringSubmatch(m[2], -1) {
			form.Set(in[1], strings.ReplaceAll(in[2], "&amp;", "&"))
		}
		r, err := noFollow.PostForm(base.Scheme+"://"+base.Host+m[1], form)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		loc, _ := url.Parse(r.Header.Get("Location"))
		_, loginID, err := a.Connect.FinishLogin(ctx, userID, loc.Query().Get("state"), loc.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		chs, err := a.Connect.ConnectPages(ctx, audit.Actor{UserID: userID}, ws, userID, loginID, []string{pageID})
		if err != nil {
			t.Fatal(err)
		}
		return chs[0]
	}
	t.Fatalf("no Continue as %s in the dialog", fbName)
	return channel.Channel{}
}

// Promise P-32, H-3 through the whole app: a member connects a Page with
// Facebook Login (the connect service records the login's app-scoped ID
// through the app's hook), a contact is linked to the same person, and
// Meta's data-deletion callback then disconnects the Page (unsubscribed,
// token destroyed) and erases the contact with the app's real erasure.
func TestMetaDeletionCallbackEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		a := apptest.New(t, d, apptest.Started())
		ctx := context.Background()
		owner := a.SignUp(t, "Olga")
		ws := owner.CreateWorkspace(t, "Olga's Shop")
		sim := a.Sim.Sim()
		fb := sim.AddUser("Olga Facebook")
		pg := sim.AddPage(fb.ID, "Olga's Page")
		ch := facebookLogin(t, a, ws, owner.ID, "Olga Facebook", pg.ID)
		psid := sim.AddPerson(pg.ID, metasim.Person{FirstName: "Olga", LastName: "Customer"})
		c, _, err := a.Contacts.Upsert(ctx, d.W, ch, psid)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.MetaCallbacks.LinkContact(ctx, d.W, ws, c.ID, fb.ID, metacallback.SourceOptIn); err != nil {
			t.Fatal(err)
		}

		st, body, err := sim.DataDeletion(ctx, a.Server.URL+"/meta/data-deletion", fb.ID)
		if err != nil || st != http.StatusOK {
			t.Fatalf("callback: %d %s %v", st, body, err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := a.Channels.Get(ctx, ws, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == channel.Disconnected {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the page was not disconnected")
			}
			time.Sleep(20 * time.Millisecond)
		}
		for {
			_, err := a.Contacts.Get(ctx, ws, c.ID)
			if errors.Is(err, db.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the linked contact was not erased: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		unsubscribed := false
		for _, call := range sim.Calls() {
			if call.Method == http.MethodDelete && strings.HasSuffix(call.Path, "/"+pg.ID+"/subscribed_apps") {
				unsubscribed = true
			}
		}
		if !unsubscribed {
			t.Error("the page was not unsubscribed")
		}
	})
}
