package channel

import (
	"fmt"
	"time"
)

// Messaging types and tags a Decision may name. They are Messenger's words;
// other platforms map them to their own rules.
const (
	// MessagingResponse answers a person inside the standard window.
	MessagingResponse = "RESPONSE"
	// MessagingTag sends outside the standard window under Tag.
	MessagingTag = "MESSAGE_TAG"
	// TagHumanAgent lets a person (never automation) reply up to 7 days
	// after the contact last wrote.
	TagHumanAgent = "HUMAN_AGENT"
)

// Reasons a Decision refuses a send.
const (
	ReasonWindowClosed      = "window_closed"       // automation, more than 24 h after the contact last wrote
	ReasonHumanWindowClosed = "human_window_closed" // anyone, more than 7 days after the contact last wrote
	ReasonNeverMessaged     = "never_messaged"      // the contact never wrote: nothing opens a window
	ReasonUnreachable       = "unreachable"         // the platform said the person cannot be reached
	ReasonNeedsReconnect    = "needs_reconnect"     // the platform rejected the channel's token
	ReasonUnsupported       = "unsupported"         // no policy is known for the channel type
)

// The Messenger windows (meta-platform.md §2.4): automation may answer for
// 24 hours after the person's last inbound event; a human agent, with the
// HUMAN_AGENT tag, for 7 days.
const (
	StandardWindow = 24 * time.Hour
	HumanWindow    = 7 * 24 * time.Hour
)

// Facts are what the policy engine needs to know before a send.
type Facts struct {
	Type Type
	// Now is the current time, from the caller's clock.
	Now time.Time
	// LastInboundAt is when the contact last wrote, reacted, tapped a
	// button or arrived by referral: events that open the window. Echoes,
	// reads and deliveries never count. Zero means never.
	LastInboundAt time.Time
	// Human is true when a person wrote this message (not a flow, the AI
	// agent, a broadcast or an automatic reply).
	Human bool
	// Unreachable is true once the platform said the person cannot be
	// messaged (blocked the Page, deactivated the account).
	Unreachable bool
	TokenState  TokenState
	// ContactName names the contact in Explanation; "" reads "this person".
	ContactName string
}

// Decision is whether a message may go out, and how.
type Decision struct {
	Allowed bool
	// MessagingType and Tag go into the platform request when Allowed.
	MessagingType string
	Tag           string
	// Reason is a stable code when refused ("" when allowed).
	Reason string
	// Explanation says the same in plain words for the person at the
	// keyboard, with the time when things change.
	Explanation string
	// WindowEnds is when what is allowed now stops being allowed: the end
	// of the standard window for RESPONSE, of the human window for
	// HUMAN_AGENT and for window_closed (a person may still reply until
	// then). Zero when no window applies.
	WindowEnds time.Time
}

// Decide applies the platform's messaging policy before any send (promise
// P-16). It is pure: the same facts always give the same decision. The
// platform may still refuse (clocks drift), so senders classify its errors
// too.
func Decide(f Facts) Decision {
	who := f.ContactName
	if who == "" {
		who = "this person"
	}
	// who also starts sentences; only the stand-in gets a capital.
	// A dead token stops everything: no send can succeed, for anyone.
	if f.TokenState == TokenNeedsReconnect {
		return refuse(ReasonNeedsReconnect, time.Time{},
			"The connection to this account has stopped working. Reconnect it in Channels to send messages again.")
	}
	switch f.Type {
	case Messenger:
		return decideMessenger(f, who)
	default:
		return refuse(ReasonUnsupported, time.Time{},
			fmt.Sprintf("Parley does not know how to send on %q channels.", string(f.Type)))
	}
}

func decideMessenger(f Facts, who string) Decision {
	if f.Unreachable {
		return refuse(ReasonUnreachable, time.Time{},
			fmt.Sprintf("Messenger says %s can't be reached right now (they may have blocked the Page or closed their account). Nothing can be sent.", who))
	}
	if f.LastInboundAt.IsZero() {
		return refuse(ReasonNeverMessaged, time.Time{},
			fmt.Sprintf("%s has never written to this Page. On Messenger, a business can only reply after the person writes first.", capitalize(who)))
	}
	now := f.Now.UTC()
	standardEnds := f.LastInboundAt.UTC().Add(StandardWindow)
	humanEnds := f.LastInboundAt.UTC().Add(HumanWindow)
	// A window ends at its end instant: exactly 24 h after the last inbound
	// event the standard window is closed. A LastInboundAt in the future
	// (clock drift) is inside the window.
	if now.Before(standardEnds) {
		return Decision{
			Allowed: true, MessagingType: MessagingResponse, WindowEnds: standardEnds,
			Explanation: fmt.Sprintf("%s wrote in the last 24 hours. Replies are open until %s.", capitalize(who), when(standardEnds, now)),
		}
	}
	if !now.Before(humanEnds) {
		return refuse(ReasonHumanWindowClosed, time.Time{},
			fmt.Sprintf("More than 7 days have passed since %s last wrote. Messenger allows no reply until they write again.", who))
	}
	if f.Human {
		return Decision{
			Allowed: true, MessagingType: MessagingTag, Tag: TagHumanAgent, WindowEnds: humanEnds,
			Explanation: fmt.Sprintf("More than 24 hours have passed since %s last wrote. You can still reply in person until %s.", who, when(humanEnds, now)),
		}
	}
	return refuse(ReasonWindowClosed, humanEnds,
		fmt.Sprintf("More than 24 hours have passed since %s last wrote. Only a person can reply, until %s.", who, when(humanEnds, now)))
}

func refuse(reason string, ends time.Time, explanation string) Decision {
	return Decision{Reason: reason, Explanation: explanation, WindowEnds: ends}
}

// when formats t for a person: "Nov 28, 14:05 UTC", with the year when it
// is not the current one.
func when(t, now time.Time) string {
	if t.Year() != now.Year() {
		return t.Format("Jan 2 2006, 15:04 UTC")
	}
	return t.Format("Jan 2, 15:04 UTC")
}

// capitalize starts a sentence with the stand-in "this person"; names are
// left as written.
func capitalize(who string) string {
	if who == "this person" {
		return "This person"
	}
	return who
}
