package provider

import (
	"context"
	"slices"
)

// Capabilities describes what a provider does beyond the two methods every
// provider has. A provider reports it through [CapabilityReporter]; a
// provider that does not implement that interface has the zero
// Capabilities: it checks by ID only, does not promise to re-send on a
// repeated Start, and declares no channels.
//
// Operations that are whole methods (cancel, fetch, approve, names) are
// optional interfaces instead: [Canceler], [Fetcher], [Approver], [Namer].
// Limits such as the code length, the validity window or the number of
// sends and checks are not capabilities: they are each provider's own
// configuration, documented by the provider and declared by its
// conformance harness.
type Capabilities struct {
	// CheckByTo is true when Check accepts a request keyed by To alone,
	// without the ID that Start returned.
	CheckByTo bool

	// ResendOnStart is true when a second Start to a To that has a pending
	// verification re-sends that verification's code, on the same
	// verification (same ID), and counts as another send. Providers without
	// it refuse such a Start with ErrConflict.
	ResendOnStart bool

	// Channels lists the channels Start accepts, including any the
	// Channel constants do not name. Empty means the provider does not say:
	// the verify client then lets the known channels through and refuses
	// others, and the provider refuses what it cannot deliver.
	Channels []Channel
}

// Supports reports whether ch is one of c.Channels. With no channels
// declared it reports whether ch is a known channel (see [Channel.Known]).
func (c Capabilities) Supports(ch Channel) bool {
	if len(c.Channels) == 0 {
		return ch.Known()
	}
	return slices.Contains(c.Channels, ch)
}

// Clone returns a copy of c that shares no memory with it.
func (c Capabilities) Clone() Capabilities {
	c.Channels = slices.Clone(c.Channels)
	return c
}

// CapabilityReporter is implemented by providers that declare their
// [Capabilities]. Capabilities must return the same value every time: the
// verify client reads it once, when it is created.
type CapabilityReporter interface {
	// Capabilities returns what the provider does.
	Capabilities() Capabilities
}

// CapabilitiesOf returns p's capabilities: what its Capabilities method
// reports, or the zero Capabilities when p is not a [CapabilityReporter].
// The result is a copy the caller may modify.
func CapabilitiesOf(p Provider) Capabilities {
	if r, ok := p.(CapabilityReporter); ok {
		return r.Capabilities().Clone()
	}
	return Capabilities{}
}

// Approver is implemented by providers that can approve a pending
// verification without a code, for flows in which the application sends
// and checks its own code (see StartRequest.CustomCode).
type Approver interface {
	// Approve approves the pending verification with the given ID and
	// returns it with status StatusApproved. It is gone afterwards, like
	// one approved by a right code. A verification that is no longer
	// pending gives ErrNotFound.
	Approve(ctx context.Context, id string) (Verification, error)
}
