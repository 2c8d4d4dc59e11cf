//go:build !linux

package storebench

import "time"

func cpu() (self, servers time.Duration) { return 0, 0 }
