package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
	"github.com/verifykit/verifykit/internal/batch"
)

// batcher sends the commands of concurrent calls together (package
// batch): a command is sent at once, alone, when fewer than inFlight of
// the store's are in flight; the commands that arrive while that many are
// go out together, as one pipeline (one write, one round trip), when one
// ends. Redis runs a pipeline's commands one after another, each on its
// own, so batching changes no command's outcome, only the round trips and
// system calls it takes. Failures stay exact: a connection lost while a pipeline is
// written or read fails every command in it that got no error answer (any
// may have run; go-redis fails the answered ones too), and a command whose
// context ends while it waits for its turn is never sent (errQueued).
//
// A pipeline is sent by the caller whose context has the latest deadline
// (none is the latest), under that deadline and its context's values. Any
// other caller whose context ends while its command is in the pipeline
// returns at once (errInFlight); the pipeline goes on.
type batcher struct{ b batch.Batcher[*redis.Cmd] }

// inFlight is how many round trips the store has in flight before
// commands wait: with one, Start+Check pairs at 16 goroutines reached
// 0.52–0.71 of the floor's pairs a second; with 4 or 8, 0.67–0.89
// (docs/performance.md, Stores).
const inFlight = 8

var (
	errQueued   = batch.ErrQueued
	errInFlight = batch.ErrInFlight
	errNoAnswer = errors.New("redisstore: the pipeline's sender panicked")
)

func newBatcher(c *redis.Client) *batcher {
	return &batcher{batch.Batcher[*redis.Cmd]{
		Max: inFlight,
		One: func(ctx context.Context, cmd *redis.Cmd) { _ = c.Process(ctx, cmd) },
		Many: func(ctx context.Context, cmds []*redis.Cmd) {
			p := c.Pipeline()
			for _, cmd := range cmds {
				_ = p.Process(ctx, cmd)
			}
			_, _ = p.Exec(ctx)
		},
		Abandoned: func(cmd *redis.Cmd) {
			if cmd.Val() == nil && cmd.Err() == nil {
				cmd.SetErr(errNoAnswer)
			}
		},
	}}
}

// do sends the command args and returns its answer.
func (b *batcher) do(ctx context.Context, args ...any) (any, error) {
	cmd := redis.NewCmd(ctx, args...)
	if err := b.b.Do(ctx, cmd); err != nil {
		return nil, err
	}
	return cmd.Result()
}
