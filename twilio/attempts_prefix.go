package twilio

import (
	"context"
	"strings"
)

// PrefixSummary is the attempts summary of one destination prefix.
type PrefixSummary struct {
	Prefix string // E.164 prefix, such as +57305
	AttemptsSummary
}

// AttemptsSummaryByPrefix returns the attempts summary of each destination
// prefix (f with its DestinationPrefix set to the prefix), in the order
// given: the conversion rate of each number range, the view in which
// traffic pumping shows (many attempts, few conversions, one range). It
// makes one GET /v2/Attempts/Summary per prefix, retried where safe as
// every read is; on an error it returns the summaries read so far with it.
// A prefix is "+" and 1 to 15 digits.
func (c *Client) AttemptsSummaryByPrefix(ctx context.Context, f SummaryFilter, prefixes []string) ([]PrefixSummary, error) {
	for _, p := range prefixes {
		if !validPrefix(p) {
			return nil, invalidInput(opAttemptSummary, "a destination prefix is + and 1 to 15 digits")
		}
	}
	out := make([]PrefixSummary, 0, len(prefixes))
	for _, p := range prefixes {
		f.DestinationPrefix = p
		s, err := c.FetchAttemptsSummary(ctx, f)
		if err != nil {
			return out, err
		}
		out = append(out, PrefixSummary{Prefix: p, AttemptsSummary: s})
	}
	return out, nil
}

func validPrefix(p string) bool {
	d, ok := strings.CutPrefix(p, "+")
	if !ok || len(d) < 1 || len(d) > 15 {
		return false
	}
	for i := range len(d) {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}
