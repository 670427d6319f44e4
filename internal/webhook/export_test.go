package webhook

// SetBeforeCommit makes every store transaction run f just before it
// commits; an error from f rolls the transaction back. nil removes it.
func (in *Intake) SetBeforeCommit(f func() error) {
	if f == nil {
		in.beforeCommit.Store(nil)
		return
	}
	in.beforeCommit.Store(&f)
}

// Queued is how many verified deliveries wait for the writer.
func (in *Intake) Queued() int { return len(in.queue) }
