package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"
)

// goRedisLog is the go-redis logger Open installs: each line becomes a
// Debug record of the logger that logger returns.
type goRedisLog struct{ logger func() *slog.Logger }

// Printf implements go-redis's logging interface.
func (l goRedisLog) Printf(ctx context.Context, format string, v ...any) {
	lg := l.logger()
	if !lg.Enabled(ctx, slog.LevelDebug) {
		return
	}
	lg.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}

var routeOnce sync.Once

// routeGoRedisLog installs goRedisLog over slog.Default as go-redis's
// logger, once.
func routeGoRedisLog() {
	routeOnce.Do(func() { redis.SetLogger(goRedisLog{logger: slog.Default}) })
}
