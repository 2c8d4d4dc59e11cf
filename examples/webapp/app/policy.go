package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
)

// Policies returns the verify options that protect the app's bill, with
// their counters in s: build Config.Verify with them (command webapp does).
// They replace hand-written limits on sends and checks: a "send again"
// cooldown per number of cooldown that doubles per code up to 5 minutes
// (none when cooldown is 0); per account 5 codes and 10 wrong codes per
// 10 minutes, per client IP address 4 times that; no codes to
// international premium and satellite ranges. The app passes the account
// and the client's address as caller keys "account" and "ip", and shows
// the refusals' RetryAfter ("ask for another one in 25 seconds").
//
// s is a store.Memory for one instance of the app, or the Redis store
// (store/redisstore) when several instances share the work.
func Policies(s store.Limiter, cooldown time.Duration) []verify.Option {
	const window = 10 * time.Minute
	opts := []verify.Option{
		verify.WithPolicyStore(s),
		verify.WithSendBudget(verify.PerCaller("account"), 5, window),
		verify.WithSendBudget(verify.PerCaller("ip"), 20, window),
		verify.WithCheckBudget(verify.PerCaller("account"), 10, window),
		verify.WithCheckBudget(verify.PerCaller("ip"), 40, window),
		verify.WithDeniedPrefixes(verify.HighCostPrefixes()...),
	}
	if cooldown > 0 {
		opts = append(opts, verify.WithResendCooldown(cooldown, max(cooldown, 5*time.Minute)))
	}
	return opts
}

// callerKeys are the caller keys of a request for account.
func (a *App) callerKeys(r *http.Request, account string) map[string]string {
	return map[string]string{"account": account, "ip": a.clientIP(r)}
}

// waitText writes d for a "try again in" message, rounded up: whole
// seconds up to 90 s, whole minutes above; never "0 seconds".
func waitText(d time.Duration) string {
	n := int((d + time.Second - 1) / time.Second)
	switch {
	case n <= 1:
		return "1 second"
	case n <= 90:
		return strconv.Itoa(n) + " seconds"
	}
	return strconv.Itoa((n+59)/60) + " minutes"
}
