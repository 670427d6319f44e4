package webhook

import "sync"

// precedence lets the store transaction go before processing on SQLite,
// where both need the one writer connection. database/sql hands a freed
// connection to any waiter, and the processor asks again the moment its
// transaction ends, so under load an acknowledgement could wait for
// several processing transactions in a row. Instead the processor does not
// begin a transaction while a store is waiting or running: an
// acknowledgement waits for at most the one processing transaction already
// under way (a few deliveries, Options.ApplyMax). The writer never waits
// for the processor here, and the processor gets its turn between batches.
//
// PostgreSQL has connections enough for both; it does without.
type precedence struct {
	mu      sync.Mutex
	cond    *sync.Cond
	storing bool
}

func newPrecedence() *precedence {
	p := &precedence{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// store runs fn, a store transaction, ahead of any processing transaction
// not yet begun. A nil precedence just runs fn.
func (p *precedence) store(fn func() error) error {
	if p == nil {
		return fn()
	}
	p.mu.Lock()
	p.storing = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.storing = false
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	return fn()
}

// process waits until no store transaction is waiting or running. A nil
// precedence does not wait.
func (p *precedence) process() {
	if p == nil {
		return
	}
	p.mu.Lock()
	for p.storing {
		p.cond.Wait()
	}
	p.mu.Unlock()
}
