package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestGoRedisLog checks that a go-redis line becomes a Debug record of the
// logger, and nothing at all when the logger does not want Debug.
func TestGoRedisLog(t *testing.T) {
	t.Parallel()
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var buf bytes.Buffer
		l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		goRedisLog{logger: func() *slog.Logger { return l }}.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts", 5)
		got := buf.String()
		if level == slog.LevelDebug && (!strings.Contains(got, "level=DEBUG") || !strings.Contains(got, `msg="go-redis: redis: connection pool: failed to dial after 5 attempts"`)) {
			t.Errorf("at Debug: %q", got)
		}
		if level == slog.LevelInfo && got != "" {
			t.Errorf("at Info: %q, want nothing", got)
		}
	}
}
