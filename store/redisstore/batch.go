package redisstore

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher sends the commands of concurrent calls together. A command is
// sent at once, alone, when none of the store's is in flight; the commands
// that arrive while one is go out together, as one pipeline (one write,
// one round trip), when it ends, sent by one of their callers. Redis
// runs a pipeline's commands one after another, each on its own, so
// batching changes no command's outcome, only the round trips and system
// calls it takes. Failures stay exact: a connection lost while a pipeline
// is written or read fails every command in it that got no error answer
// (any may have run; go-redis fails the answered ones too), and a command
// whose context ends while it waits for its turn is never sent (errQueued).
//
// A pipeline is sent by the caller whose context has the latest deadline
// (none is the latest), under that deadline and its context's values. Any
// other caller whose context ends while its command is in the pipeline
// returns at once (errInFlight); the pipeline goes on.
type batcher struct {
	c     *redis.Client
	mu    sync.Mutex
	busy  bool // a command or pipeline is in flight
	queue []*call
}

// call is a command waiting for its turn.
type call struct {
	ctx   context.Context
	cmd   *redis.Cmd
	state int           // under batcher.mu until done is closed
	done  chan struct{} // closed when cmd has its answer, or when its caller is to send batch
	batch []*call
}

// The states of a call.
const (
	queued  = iota
	sent    // in a pipeline
	leading // in a pipeline its caller sends
	dropped // its context ended while queued: never sent
)

var (
	errQueued   = errors.New("redisstore: the context ended before the command was sent")
	errInFlight = errors.New("redisstore: the context ended while the command was in flight")
	errNoAnswer = errors.New("redisstore: the pipeline's sender panicked")
)

// do sends the command args and returns its answer.
func (b *batcher) do(ctx context.Context, args ...any) (any, error) {
	cmd := redis.NewCmd(ctx, args...)
	b.mu.Lock()
	if !b.busy {
		b.busy = true
		b.mu.Unlock()
		defer b.next() // even if a hook panics
		_ = b.c.Process(ctx, cmd)
		return cmd.Result()
	}
	c := &call{ctx: ctx, cmd: cmd, done: make(chan struct{})}
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		b.mu.Lock()
		st := c.state
		if st == queued {
			c.state = dropped
		}
		b.mu.Unlock()
		switch st {
		case queued:
			return nil, errors.Join(errQueued, ctx.Err())
		case sent:
			return nil, errors.Join(errInFlight, ctx.Err())
		}
		<-c.done // leading: the others wait for it
	}
	if c.state == leading {
		b.send(c.batch)
	}
	return cmd.Result()
}

// next hands the queued commands, if any, to the caller with the latest
// deadline to send, or marks the batcher idle.
func (b *batcher) next() {
	b.mu.Lock()
	var batch []*call
	for _, c := range b.queue {
		if c.state == queued {
			c.state = sent
			batch = append(batch, c)
			if n := len(batch) - 1; n > 0 && later(c.ctx, batch[0].ctx) {
				batch[0], batch[n] = c, batch[0]
			}
		}
	}
	clear(b.queue)
	b.queue = b.queue[:0]
	b.busy = len(batch) > 0
	if b.busy {
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

// send sends batch, whose first call is its caller's, as one pipeline.
func (b *batcher) send(batch []*call) {
	defer func() { // even if a hook panics: the others fail then
		b.next()
		for _, c := range batch[1:] {
			if c.cmd.Val() == nil && c.cmd.Err() == nil {
				c.cmd.SetErr(errNoAnswer)
			}
			close(c.done)
		}
	}()
	ctx := context.WithoutCancel(batch[0].ctx)
	if d, ok := batch[0].ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	if len(batch) == 1 {
		_ = b.c.Process(ctx, batch[0].cmd)
	} else {
		p := b.c.Pipeline()
		for _, c := range batch {
			_ = p.Process(ctx, c.cmd)
		}
		_, _ = p.Exec(ctx)
	}
}
