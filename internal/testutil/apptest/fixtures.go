package apptest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/inbox"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

var seq atomic.Int64

// Password is the password every fixture user has.
const Password = "correct horse battery staple"

// User is a signed-in fixture user with its own client.
type User struct {
	ID, Email string
	*Client
}

// SignUp creates a user through the API and returns it signed in.
func (a *App) SignUp(t testing.TB, name string) *User {
	t.Helper()
	c := a.Client(t)
	email := fmt.Sprintf("%s-%d@example.com", name, seq.Add(1))
	res := c.Do("POST", "/api/v1/auth/signup", map[string]any{"email": email, "password": Password, "name": name, "age_confirmed": true}).Must(t, 201)
	var out struct {
		User struct{ ID string } `json:"user"`
	}
	res.JSON(t, &out)
	return &User{ID: out.User.ID, Email: email, Client: c}
}

// CreateWorkspace creates a workspace owned by u and returns its ID.
func (u *User) CreateWorkspace(t testing.TB, name string) string {
	t.Helper()
	var out struct{ ID string }
	u.Do("POST", "/api/v1/workspaces", map[string]string{"name": name}).Must(t, 201).JSON(t, &out)
	return out.ID
}

// Join invites u into workspace ws as role (by owner) and accepts.
func (a *App) Join(t testing.TB, owner *User, ws string, u *User, role string) {
	t.Helper()
	var inv struct{ Link string }
	owner.Do("POST", "/api/v1/workspaces/"+ws+"/invitations", map[string]string{"email": u.Email, "role": role}).Must(t, 201).JSON(t, &inv)
	token := inv.Link[len(inv.Link)-len(tokenOf(inv.Link)):]
	u.Do("POST", "/api/v1/invitations/"+token+"/accept", nil).Must(t, 200)
}

func tokenOf(link string) string {
	for i := len(link) - 1; i >= 0; i-- {
		if link[i] == '/' {
			return link[i+1:]
		}
	}
	return link
}

// Login signs u in again on its own client (after the clock moved past the
// session's lifetime, say).
func (u *User) Login(t testing.TB) {
	t.Helper()
	u.Do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": Password}).Must(t, 200)
}

// Conversation connects a Messenger Page of its own to the workspace (a
// fixture channel, no simulator) and has a new person write text to it
// through the inbox, as an applied webhook would. It returns the
// conversation's and the person's contact IDs.
func (a *App) Conversation(t testing.TB, ws, text string) (conversationID, contactID string) {
	t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	ch := fixture.Messenger(t, a.Channels, ws, fmt.Sprintf("96%013d", n), fmt.Sprintf("EAA-apptest-%d", n))
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := a.Inbox.Ingest(ctx, tx, ch, []channel.Inbound{{Type: channel.Messenger, Kind: channel.EventMessage,
			AccountID: ch.ExternalID, UserID: fmt.Sprintf("76%014d", n), At: a.Clock.Now(), MID: fmt.Sprintf("m_apptest_%d", n),
			Content: channel.Content{Text: text}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := a.Inbox.Conversations(ctx, ws, inbox.ListOptions{ChannelID: ch.ID})
	if err != nil || len(list) != 1 {
		t.Fatalf("apptest: seed a conversation: %v, %v", list, err)
	}
	return list[0].ID, list[0].ContactID
}
