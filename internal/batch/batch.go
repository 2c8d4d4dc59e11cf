// Package batch lets a store's concurrent calls share round trips. A call
// made while the store has as many round trips in flight as it allows
// waits for one to end; the calls that waited meanwhile then go out
// together, in one round trip, sent by one of their callers. A call made
// when fewer are in flight is sent at once, alone.
package batch

import (
	"context"
	"errors"
	"sync"
)

// Batcher sends the calls given to Do. Set One, Many and Abandoned before
// use.
type Batcher[T any] struct {
	// One sends one call and sets its answer.
	One func(ctx context.Context, c T)
	// Many sends calls in one round trip and sets their answers.
	Many func(ctx context.Context, cs []T)
	// Max is how many round trips may be in flight at once; 0 means 1.
	Max int
	// Abandoned sets the answer of a call whose batch's sender panicked
	// (in a hook, say): its outcome is unknown.
	Abandoned func(c T)

	mu    sync.Mutex
	busy  int // round trips in flight
	queue []*call[T]
}

// call is a call waiting for its turn.
type call[T any] struct {
	ctx   context.Context
	c     T
	state int           // under Batcher.mu until done is closed
	done  chan struct{} // closed when c has its answer, or when its caller is to send batch
	batch []*call[T]
}

// The states of a call.
const (
	queued  = iota
	sent    // in a batch
	leading // in a batch its caller sends
	dropped // its context ended while queued: never sent
)

var (
	// ErrQueued joins the context's error when it ended before the call
	// was sent: the call was never sent.
	ErrQueued = errors.New("the context ended before the call was sent")
	// ErrInFlight joins the context's error when it ended while the
	// call's batch was in flight: the call may have been carried out.
	ErrInFlight = errors.New("the context ended while the call was in flight")
)

// Do sends c, alone or in a batch, and returns once One or Many has set
// its answer, or with ErrQueued or ErrInFlight when ctx ends first.
//
// A batch is sent by the caller whose context has the latest deadline
// (none is the latest), under that deadline and its context's values, so
// that no other caller is held by it past its own deadline.
func (b *Batcher[T]) Do(ctx context.Context, c T) error {
	b.mu.Lock()
	if b.busy < max(b.Max, 1) {
		b.busy++
		b.mu.Unlock()
		defer b.next() // even if One panics
		b.One(ctx, c)
		return nil
	}
	k := &call[T]{ctx: ctx, c: c, done: make(chan struct{})}
	b.queue = append(b.queue, k)
	b.mu.Unlock()
	select {
	case <-k.done:
	case <-ctx.Done():
		b.mu.Lock()
		st := k.state
		if st == queued {
			k.state = dropped
		}
		b.mu.Unlock()
		switch st {
		case queued:
			return errors.Join(ErrQueued, ctx.Err())
		case sent:
			return errors.Join(ErrInFlight, ctx.Err())
		}
		<-k.done // leading: the others wait for it
	}
	if k.state == leading {
		b.send(k.batch)
	}
	return nil
}

// next hands the queued calls, if any, to the caller with the latest
// deadline to send, or gives up a round trip in flight.
func (b *Batcher[T]) next() {
	b.mu.Lock()
	var batch []*call[T]
	for _, k := range b.queue {
		if k.state == queued {
			k.state = sent
			batch = append(batch, k)
			if n := len(batch) - 1; n > 0 && later(k.ctx, batch[0].ctx) {
				batch[0], batch[n] = k, batch[0]
			}
		}
	}
	clear(b.queue)
	b.queue = b.queue[:0]
	if len(batch) == 0 {
		b.busy--
	} else {
		batch[0].state = leading
	}
	b.mu.Unlock()
	if len(batch) > 0 {
		batch[0].batch = batch
		close(batch[0].done)
	}
}

// later reports whether a's deadline is after b's (none is the latest).
func later(a, b context.Context) bool {
	da, ok := a.Deadline()
	db, okb := b.Deadline()
	return okb && (!ok || da.After(db))
}

// send sends batch, whose first call is its caller's.
func (b *Batcher[T]) send(batch []*call[T]) {
	answered := false
	defer func() { // even if One or Many panics
		b.next()
		for _, k := range batch[1:] {
			if !answered {
				b.Abandoned(k.c)
			}
			close(k.done)
		}
	}()
	ctx := context.WithoutCancel(batch[0].ctx)
	if d, ok := batch[0].ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	if len(batch) == 1 {
		b.One(ctx, batch[0].c)
	} else {
		cs := make([]T, len(batch))
		for i, k := range batch {
			cs[i] = k.c
		}
		b.Many(ctx, cs)
	}
	answered = true
}

// Queued returns how many calls wait for their turn.
func (b *Batcher[T]) Queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}
