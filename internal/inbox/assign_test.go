package inbox

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/testutil/fixture"
)

// Only the workspace's owners, admins and agents can be assigned; a
// viewer, a stranger or a member of another workspace is refused and
// nothing changes. Assigning hands the conversation to people.
func TestAssign(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		agent, admin, viewer := h.member("agent"), h.member("admin"), h.member("viewer")
		other := fixture.Workspace(t, d, h.kr)
		foreigner := h.memberOf(other, "agent")
		for name, id := range map[string]string{"viewer": viewer, "stranger": "no-such-user", "other workspace's agent": foreigner} {
			if err := h.svc.Assign(ctx, auditActor, h.ws, conv.ID, id); !errors.Is(err, ErrInvalid) {
				t.Errorf("assign a %s = %v, want ErrInvalid", name, err)
			}
		}
		if c := h.conversationOf("psid-1"); c.AssigneeID != "" || c.Owner != OwnerBot {
			t.Fatalf("refused assignments changed %+v", c)
		}
		if err := h.svc.Assign(ctx, auditActor, other, conv.ID, foreigner); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("assign from another workspace = %v, want ErrNotFound", err)
		}
		l := h.listen()
		if err := h.svc.Assign(ctx, auditActor, h.ws, conv.ID, agent); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.AssigneeID != agent || c.Owner != OwnerHuman {
			t.Errorf("after assign: %+v", c)
		}
		if got := l.take(); len(got) != 1 || got[0].Kind != ChangeConversation {
			t.Errorf("told %+v", got)
		}
		if err := h.svc.Assign(ctx, auditActor, h.ws, conv.ID, admin); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.Assign(ctx, auditActor, h.ws, conv.ID, ""); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.AssigneeID != "" || c.Owner != OwnerHuman {
			t.Errorf("after unassign: %+v", c)
		}
		if diff := cmp.Diff([]string{
			"status system from=open,to=pending", // the bot answered
			"assignment user:user-1 from=,to=" + agent,
			"owner user:user-1 from=bot,reason=assign,to=human",
			"status user:user-1 from=pending,to=open", // people answer now
			"assignment user:user-1 from=" + agent + ",to=" + admin,
			"assignment user:user-1 from=" + admin + ",to=",
		}, h.events(conv.ID)); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		if n := h.count(`SELECT count(*) FROM audit_log WHERE workspace_id = ? AND action = ?`, h.ws, ActionAssign); n != 3 {
			t.Errorf("%d assign audits, want 3", n)
		}
	})
}

// SetTeam accepts only the workspace's teams (through Options.Teams);
// without Teams every team is refused. A human-owned conversation nobody
// has gets an assignee from the team, picked inside the transaction.
func TestSetTeam(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		conv := h.newConv("psid-1")
		if err := h.svc.SetTeam(ctx, auditActor, h.ws, conv.ID, "sales"); !errors.Is(err, ErrInvalid) {
			t.Errorf("a team without Teams = %v", err)
		}
		agent := h.member("agent")
		teams := &fakeTeams{teams: map[string]bool{"sales": true}, auto: map[string]bool{"sales": true, "vip": true}, picks: []string{agent}}
		h.withTeams(teams)
		if err := h.svc.SetTeam(ctx, auditActor, h.ws, conv.ID, "support"); !errors.Is(err, ErrInvalid) {
			t.Errorf("an unknown team = %v", err)
		}
		other := fixture.Workspace(t, d, h.kr)
		if err := h.svc.SetTeam(ctx, auditActor, other, conv.ID, "sales"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("from another workspace = %v", err)
		}
		// Bot-owned: the team is set, nobody is picked.
		if err := h.svc.SetTeam(ctx, auditActor, h.ws, conv.ID, "sales"); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.TeamID != "sales" || c.AssigneeID != "" || len(teams.asked) != 0 {
			t.Errorf("bot-owned: %+v, asked %v", c, teams.asked)
		}
		// Human-owned and unassigned: moving teams picks.
		if err := h.svc.SetOwner(ctx, auditActor, h.ws, conv.ID, OwnerHuman); err != nil {
			t.Fatal(err)
		}
		teams.teams["vip"] = true
		if err := h.svc.SetTeam(ctx, auditActor, h.ws, conv.ID, "vip"); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.TeamID != "vip" || c.AssigneeID != agent || !teams.inTx {
			t.Errorf("human-owned: %+v, in tx %v", c, teams.inTx)
		}
		if diff := cmp.Diff([]string{"vip"}, teams.asked); diff != "" {
			t.Errorf("asked (-want +got):\n%s", diff)
		}
		if err := h.svc.SetTeam(ctx, auditActor, h.ws, conv.ID, ""); err != nil {
			t.Fatal(err)
		}
		evs := h.events(conv.ID)
		want := []string{
			"status system from=open,to=pending",
			"team user:user-1 from=,to=sales",
			"owner user:user-1 from=bot,reason=takeover,to=human",
			"status user:user-1 from=pending,to=open",
			"team user:user-1 from=sales,to=vip",
			"assignment system from=,reason=auto,to=" + agent,
			"team user:user-1 from=vip,to=",
		}
		if diff := cmp.Diff(want, evs); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
	})
}

// A flow's handoff moves the conversation to the team it names (when the
// workspace has it) and picks an assignee there; an unknown team still
// hands off. New conversations get an assignee when the workspace
// auto-assigns, and none when it does not.
func TestHandoffAndAutoAssign(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		agent := h.member("agent")
		teams := &fakeTeams{teams: map[string]bool{"sales": true}, auto: map[string]bool{"sales": true}, picks: []string{agent}}
		h.withTeams(teams)
		a := h.newConv("psid-a")
		if len(teams.asked) != 0 {
			t.Fatalf("picked with auto-assign off: %v", teams.asked)
		}
		if _, err := h.automate(a.ID, Author{Type: SenderFlow, ID: "flow-1"}, Response{Handoff: true, Team: "sales"}); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-a"); c.Owner != OwnerHuman || c.TeamID != "sales" || c.AssigneeID != agent {
			t.Errorf("after handoff: %+v", c)
		}
		if diff := cmp.Diff([]string{
			"status system from=open,to=pending",
			"owner flow:flow-1 from=bot,reason=handoff,to=human",
			"status flow:flow-1 from=pending,to=open",
			"team flow:flow-1 from=,to=sales",
			"assignment system from=,reason=auto,to=" + agent,
			"handoff flow:flow-1 team=sales",
		}, h.events(a.ID)); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		b := h.newConv("psid-b")
		if _, err := h.automate(b.ID, Author{Type: SenderAI}, Response{Handoff: true, Team: "deleted-team"}); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-b"); c.Owner != OwnerHuman || c.TeamID != "" || c.AssigneeID != "" {
			t.Errorf("handoff to an unknown team: %+v", c)
		}

		// A team that does not assign automatically: the handoff leaves
		// the conversation in the team's queue.
		teams.teams["kitchen"], teams.picks = true, []string{agent}
		k := h.newConv("psid-k")
		if _, err := h.automate(k.ID, Author{Type: SenderFlow, ID: "flow-1"}, Response{Handoff: true, Team: "kitchen"}); err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-k"); c.TeamID != "kitchen" || c.AssigneeID != "" {
			t.Errorf("handoff to a team without auto-assign: %+v", c)
		}

		teams.auto[""] = true // the workspace assigns new conversations
		c := h.newConv("psid-c")
		if c.AssigneeID != agent || c.Owner != OwnerBot {
			t.Errorf("new conversation with auto-assign: %+v", c)
		}
		// An existing conversation's message does not pick again.
		asked := len(teams.asked)
		h.ingest(h.text("psid-c", "m_c2", "more"))
		if len(teams.asked) != asked {
			t.Errorf("picked again for an existing conversation")
		}
	})
}

// A deleted team leaves its conversations in the same transaction (package
// team's Options.TeamDeleted calls ClearTeam): they keep their owner and
// assignee, the change is on the timeline, and another workspace's
// conversations with the same team ID are not touched.
func TestClearTeam(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d)
		ctx := context.Background()
		h.withTeams(&fakeTeams{teams: map[string]bool{"sales": true}})
		conv := h.newConv("psid-1")
		if err := h.svc.SetTeam(ctx, auditActor, h.ws, conv.ID, "sales"); err != nil {
			t.Fatal(err)
		}
		other := fixture.Workspace(t, d, h.kr)
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := h.svc.ClearTeam(ctx, tx, other, "sales"); err != nil {
				return err
			}
			if c := h.conversationOf("psid-1"); c.TeamID != "sales" {
				t.Errorf("another workspace's ClearTeam moved it: %+v", c)
			}
			return h.svc.ClearTeam(ctx, tx, h.ws, "sales")
		})
		if err != nil {
			t.Fatal(err)
		}
		if c := h.conversationOf("psid-1"); c.TeamID != "" || c.Owner != OwnerBot {
			t.Errorf("after ClearTeam: %+v", c)
		}
		if diff := cmp.Diff([]string{"status system from=open,to=pending", "team user:user-1 from=,to=sales", "team system from=sales,to="}, h.events(conv.ID)); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
	})
}
