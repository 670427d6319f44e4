package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/parleyhq/parley/internal/channel"
	"github.com/parleyhq/parley/internal/job"
)

// The direct path sends a reply straight after the transaction that queued
// it commits, from memory, instead of through a job: a job costs three
// trips through the database (claim, run, finish) and a dispatcher round
// of latency before the platform is even called. The message row is still
// the durable record, and the job queue stays the safety net:
//
//   - before calling the platform the message is claimed, queued → sending,
//     in a transaction shared with every other claim ready at that moment
//     (group commit), so a send is never made twice, whoever else looks;
//   - whatever the direct path cannot finish (a retryable failure, an
//     uncertain outcome, a stop) becomes an "inbox.send" job, and so does
//     the rest of that conversation's line, so order holds;
//   - a message queued while its conversation already has a send job goes
//     to the queue too, behind it;
//   - should the process die in between, the sweep (KindSweep) finds the
//     queued or sending message once it is older than sweepAfter and gives
//     it a job.
const (
	// directBacklog bounds the messages held in memory; beyond it replies
	// are queued as jobs from the start.
	directBacklog = 20000
	// directSlots bounds the sends in flight at once. A send waits on the
	// platform (hundreds of milliseconds on a slow day): the concurrency
	// needed is rate × latency, 1,000 messages/s at 200 ms is 200.
	directSlots = 512
	// tokenTTL is how long an opened page token is reused. Only an active
	// channel's messages reach the direct path, and a token Meta refuses
	// marks the channel at once.
	tokenTTL = 2 * time.Second
	// slowFor keeps a conversation on the job path after one of its sends
	// went there, so a later reply cannot overtake a retried one.
	slowFor = time.Minute
	// batchMax bounds the rows one group-commit transaction writes: small,
	// because on SQLite a long write holds the one writer the webhook
	// intake needs to acknowledge deliveries (32 rows keep it to a few
	// milliseconds; at 1,000 replies a second that is still few commits).
	batchMax = 32
	// batchQueue is how many items may wait for the group-commit writer
	// before add blocks: answers wait resultWait there, so at 2,000 sends
	// a second a thousand of them.
	batchQueue = 4096
	// resultWait is how long a platform answer waits before it is
	// stored: its echo, which stores the same, usually comes first and
	// makes the write unnecessary (processing lags more under load, so
	// the wait is not cut short by a full batch).
	resultWait = 500 * time.Millisecond
)

// outbound is a reply on the direct path: everything the send needs, so
// nothing is read or opened again.
type outbound struct {
	msg  Message
	ch   channel.Channel
	conv Conversation
	to   string // the contact's platform ID
}

// direct is the in-memory dispatcher of the direct path.
type direct struct {
	s      *Service
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	lines   map[string]*line // by conversation ID
	slow    map[string]time.Time
	held    int
	started bool // by Service.Start: until then every reply is a job
	stopped bool
	wg      sync.WaitGroup

	// unsettled holds the messages claimed and not yet recorded as sent,
	// and whether their echo has been applied meanwhile: an echo stores
	// everything the send's answer would (the platform ID, sent), so the
	// answer of an echoed message is not written again.
	unsettled     map[string]bool
	resultsStored atomic.Int64 // send answers written (tests read it)

	slots   chan struct{}
	claims  *batcher[*claim]
	results *batcher[sentMsg]
	tokens  tokenCache
}

// line is one conversation's replies, sent one after another.
type line struct {
	conv  string
	items []outbound
}

func newDirect(s *Service) *direct {
	ctx, cancel := context.WithCancel(context.Background())
	d := &direct{
		s: s, ctx: ctx, cancel: cancel,
		lines: map[string]*line{}, slow: map[string]time.Time{}, unsettled: map[string]bool{},
		slots: make(chan struct{}, directSlots),
	}
	d.tokens.ttl = tokenTTL
	d.claims = newBatcher(ctx, s.claimBatch, s.log, 0)
	// Nobody waits for a result to be stored, and a message's echo,
	// which comes within moments, usually stores it first: storeResults
	// waits a little, which makes the write often unnecessary.
	d.results = newBatcher(ctx, d.storeResults, s.log, 0)
	return d
}

// accepts reports whether a reply to conv may take the direct path; it
// is asked inside the transaction that queues the reply.
func (d *direct) accepts(ctx context.Context, tx bun.Tx, convID string) (bool, error) {
	d.mu.Lock()
	until, slow := d.slow[convID]
	if slow && !d.s.now().Before(until) {
		delete(d.slow, convID) // the map holds only conversations still on the job path
		slow = false
	}
	ok := d.started && !d.stopped && d.held < directBacklog && !slow
	d.mu.Unlock()
	if !ok {
		return false, nil
	}
	busy, err := d.s.opt.Sends.Busy(ctx, tx, convID)
	return !busy, err
}

// submit takes replies whose transaction has committed.
func (d *direct) submit(items []outbound) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		// The sweep gives them a job.
		return
	}
	for _, it := range items {
		l := d.lines[it.conv.ID]
		if l == nil {
			l = &line{conv: it.conv.ID}
			d.lines[it.conv.ID] = l
			d.wg.Add(1)
			go d.run(l)
		}
		l.items = append(l.items, it)
		d.held++
	}
}

// next pops the line's next reply, or ends the line.
func (d *direct) next(l *line) (outbound, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(l.items) == 0 || d.stopped {
		delete(d.lines, l.conv)
		return outbound{}, false
	}
	it := l.items[0]
	l.items = l.items[1:]
	d.held--
	return it, true
}

// run sends a line's replies in order until it is empty. A reply that
// went to the job path takes the rest of the line with it.
func (d *direct) run(l *line) {
	defer d.wg.Done()
	for {
		it, ok := d.next(l)
		if !ok {
			return
		}
		select {
		case d.slots <- struct{}{}:
		case <-d.ctx.Done():
			d.handOff(it, 0)
			continue
		}
		queued := d.send(it)
		<-d.slots
		if queued {
			d.mu.Lock()
			d.slow[l.conv] = d.s.now().Add(slowFor)
			d.mu.Unlock()
			for {
				rest, ok := d.next(l)
				if !ok {
					return
				}
				d.handOff(rest, 0)
			}
		}
	}
}

// send delivers one reply. It returns true when the reply went to the job
// path (the rest of its line must follow it there).
func (d *direct) send(it outbound) (queued bool) {
	s := d.s
	ctx := d.ctx
	// Outbound paused (the kill switch, P-37): the reply goes to the job
	// path, where it waits queued without calling the platform, and the
	// rest of its conversation's line follows it there, in order.
	if s.opt.SendHold != nil && s.opt.SendHold(it.msg.WorkspaceID) {
		d.handOff(it, 0)
		return true
	}
	now := s.now()
	o := outgoing{msgRow: msgRow{ID: it.msg.ID, WorkspaceID: it.msg.WorkspaceID, ChannelID: it.ch.ID,
		ConversationID: it.conv.ID, ContactID: it.msg.ContactID, Status: string(StatusQueued), UpdatedAt: now}, To: it.to}
	dec := channel.Decide(facts(it.ch, it.conv, it.msg.SenderType == SenderAgent, "", now))
	if !dec.Allowed {
		return d.settle(it, s.fail(ctx, &o, dec.Reason, dec.Explanation, nil))
	}
	sender := s.opt.Senders[it.ch.Type]
	if sender == nil {
		return d.settle(it, s.fail(ctx, &o, CodeUnsupported, "Parley cannot send on this kind of channel.", nil))
	}
	token, err := d.tokens.get(ctx, it.ch, now, s.opt.Channels.Token)
	if errors.Is(err, channel.ErrNoToken) {
		return d.settle(it, s.fail(ctx, &o, CodeNeedsReconnect, "The channel needs to be reconnected.", nil))
	}
	if err != nil {
		return d.settle(it, again(0, err))
	}
	c := &claim{id: it.msg.ID, messagingType: dec.MessagingType, tag: dec.Tag, at: now, change: o.change(), done: make(chan error, 1)}
	if err := d.claims.add(c); err != nil {
		return d.settle(it, again(0, err))
	}
	if err := <-c.done; err != nil {
		if errors.Is(err, errNotClaimed) {
			return false // someone else has it (a sweep's job), or it was erased
		}
		return d.settle(it, again(0, err))
	}
	d.unsettle(it.msg.ID)
	res, err := sender.Send(ctx, it.ch, token, channel.Outbound{
		To: it.to, Content: it.msg.Content, MessagingType: dec.MessagingType, Tag: dec.Tag, Metadata: it.msg.ID,
	})
	if err != nil {
		d.settled(it.msg.ID)
		var se *channel.SendError
		if !errors.As(err, &se) {
			se = &channel.SendError{Kind: channel.ErrUncertain, Message: "unclassified send failure"}
		}
		o.Status = string(StatusSending)
		return d.settle(it, s.failed(ctx, &o, it.ch, se, false))
	}
	if err := d.results.add(sentMsg{id: it.msg.ID, channelID: it.ch.ID, mid: res.MID, at: time.Now(), change: o.change()}); err != nil {
		d.settled(it.msg.ID)
		// Stopping: the message stays "sending" and its echo (or the
		// sweep's job, which waits for it) settles it.
		s.log.Warn("sent message not recorded", "message", it.msg.ID, "err", err)
	}
	return false
}

// unsettle notes a message about to be sent, until its result is stored.
func (d *direct) unsettle(id string) {
	d.mu.Lock()
	d.unsettled[id] = false
	d.mu.Unlock()
}

// echoed notes that the echoes of these messages were applied (their
// transaction committed).
func (d *direct) echoed(ids []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		if _, ok := d.unsettled[id]; ok {
			d.unsettled[id] = true
		}
	}
}

// settled forgets a message and reports whether its echo came first.
func (d *direct) settled(id string) (echoed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	echoed = d.unsettled[id]
	delete(d.unsettled, id)
	return echoed
}

// settle carries out what the send path decided: a retry becomes a job,
// anything else is final.
func (d *direct) settle(it outbound, r result) bool {
	if r.action != retry {
		if r.err != nil {
			d.s.log.Info("direct send gave up", "message", it.msg.ID, "err", r.err)
		}
		return false
	}
	d.handOff(it, r.after)
	return true
}

// handOff gives a reply to the job path, after delay. Should even that
// fail, the sweep finds the message.
func (d *direct) handOff(it outbound, delay time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.s.opt.Sends.Enqueue(ctx, d.s.d.W, KindSend, idJob{WS: it.msg.WorkspaceID, ID: it.msg.ID},
		job.Key(it.conv.ID), job.Unique(sendUnique(it.msg.ID)), job.Delay(delay)); err != nil {
		d.s.log.Warn("hand a send to the queue", "message", it.msg.ID, "err", err)
		return
	}
	d.s.opt.Sends.Notify()
}

// stop ends the direct path: replies not yet claimed go to the job path,
// and sends in flight finish (or are cut off when ctx ends, to be settled
// by their echo or the sweep).
func (d *direct) stop(ctx context.Context) error {
	d.mu.Lock()
	d.stopped = true
	var left []outbound
	for _, l := range d.lines {
		left = append(left, l.items...)
		l.items = nil
	}
	d.held = 0
	d.mu.Unlock()
	for _, it := range left {
		d.handOff(it, 0)
	}
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("inbox: stop: sends still in flight: %w", ctx.Err())
	}
	d.cancel()
	d.claims.close()
	d.results.close()
	return err
}

// sendUnique is the unique key of a message's send job: one at most,
// however many times the sweep or the direct path hands it over.
func sendUnique(messageID string) string { return KindSend + ":" + messageID }

// errNotClaimed is a claim that found the message no longer queued.
var errNotClaimed = errors.New("inbox: message no longer queued")

// claim asks to move one message from queued to sending.
type claim struct {
	id, messagingType, tag string
	at                     time.Time
	change                 Change // told when the claim silences the message instead
	done                   chan error
}

// sentMsg is a send the platform accepted.
type sentMsg struct {
	id, channelID, mid string
	at                 time.Time // when the answer came (real time)
	change             Change    // told once stored
}

// claimBatch claims a batch of messages in one transaction and answers
// each request.
func (s *Service) claimBatch(ctx context.Context, batch []*claim) error {
	won := make([]bool, len(batch))
	var silenced []Change
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		silenced = silenced[:0]
		for i, c := range batch {
			res, err := s.st.Exec(ctx, tx, sqlClaimDirect, c.messagingType, c.tag, c.at, c.id)
			if err != nil {
				return fmt.Errorf("inbox: claim %s: %w", c.id, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if won[i] = n == 1; won[i] {
				continue
			}
			// Not claimed: sent by someone else, erased, or written by
			// automation before a person took over (P-24), which fails
			// it here as deliver would.
			res, err = s.st.Exec(ctx, tx, sqlSilenceDirect, CodeHumanOwned, silencedMessage, c.at, c.id)
			if err != nil {
				return fmt.Errorf("inbox: claim %s: %w", c.id, err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				silenced = append(silenced, c.change)
			}
		}
		return nil
	})
	if err == nil {
		for _, ch := range silenced {
			s.changed(ctx, ch)
		}
	}
	for i, c := range batch {
		switch {
		case err != nil:
			c.done <- err
		case !won[i]:
			c.done <- errNotClaimed
		default:
			c.done <- nil
		}
	}
	return err
}

// storeResults stores the platform answers of a batch of sends, but for
// those whose echo has already stored the same (usually all of them: the
// echo comes within moments, and answers wait resultWait for it). Batches
// come in the order of the answers, so waiting for the last of one lets
// the next ones, already old enough, through at once: the wait delays the
// writes without slowing them.
func (d *direct) storeResults(ctx context.Context, batch []sentMsg) error {
	if wait := time.Until(batch[len(batch)-1].at.Add(resultWait)); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-d.ctx.Done(): // stopping: store what is left now
			t.Stop()
		}
	}
	var write []sentMsg
	var told Effects
	for _, m := range batch {
		if d.settled(m.id) {
			told.addChange(m.change)
			continue
		}
		write = append(write, m)
	}
	for _, c := range told.changes {
		d.s.changed(ctx, c)
	}
	if len(write) == 0 {
		return nil
	}
	if err := d.s.sentBatch(ctx, write); err != nil {
		return err
	}
	d.resultsStored.Add(int64(len(write)))
	return nil
}

// sentBatch stores a batch of platform answers in one transaction.
func (s *Service) sentBatch(ctx context.Context, batch []sentMsg) error {
	now := s.now()
	err := s.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, m := range batch {
			if _, err := s.st.Exec(ctx, tx, sqlSent, m.channelID, m.mid, nullable(m.mid), now, now, m.id); err != nil {
				return fmt.Errorf("inbox: store send result %s: %w", m.id, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var told Effects
	for _, m := range batch {
		told.addChange(m.change)
	}
	for _, c := range told.changes {
		s.changed(ctx, c)
	}
	return nil
}

// tokenCache keeps opened page tokens for a moment: opening one is a read
// and a decryption, once per send otherwise.
type tokenCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedToken
}

type cachedToken struct {
	token string
	at    time.Time
}

func (c *tokenCache) get(ctx context.Context, ch channel.Channel, now time.Time, open func(context.Context, channel.Channel) (string, error)) (string, error) {
	c.mu.Lock()
	t, ok := c.m[ch.ID]
	c.mu.Unlock()
	if ok && now.Sub(t.at) < c.ttl && now.Sub(t.at) >= 0 {
		return t.token, nil
	}
	tok, err := open(ctx, ch)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedToken{}
	}
	c.m[ch.ID] = cachedToken{token: tok, at: now}
	c.mu.Unlock()
	return tok, nil
}
