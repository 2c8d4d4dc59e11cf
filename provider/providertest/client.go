package providertest

import (
	"context"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// throughClient is a Harness whose provider is reached through a
// verify.Client, as an application reaches it: the rules test what the
// client and the provider guarantee together, and a provider need not
// repeat the validation the client does before it calls it (see provider's
// doc, "What the verify client guarantees").
type throughClient struct {
	Harness
	p clientProvider
}

// Provider returns the provider as the client shows it.
func (h *throughClient) Provider() provider.Provider { return &h.p }

// viaClient returns h with its provider behind verify.New(p), with the
// code lengths h declares.
func viaClient(h Harness, lim Limits) (Harness, error) {
	inner := h.Provider()
	c, err := verify.New(inner, verify.WithCodeLength(lim.MinCodeLength, lim.MaxCodeLength))
	if err != nil {
		return nil, err
	}
	return &throughClient{Harness: h, p: clientProvider{c: c, inner: inner}}, nil
}

// clientProvider presents a verify.Client as a provider, so the rules
// keep the contract's vocabulary. It has every optional operation; the
// client answers ErrUnsupported for those the provider lacks, which the
// rules treat as the provider not having them.
type clientProvider struct {
	c     *verify.Client
	inner provider.Provider
}

func (p *clientProvider) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	return p.c.Start(ctx, req.To, req.Channel, &verify.StartOptions{
		Locale: req.Locale, FriendlyName: req.FriendlyName, CustomCode: req.CustomCode,
		Reference: req.Reference, Extensions: req.Extensions,
	})
}

func (p *clientProvider) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	opts := &verify.CheckOptions{Extensions: req.Extensions}
	if req.ID != "" {
		return p.c.CheckID(ctx, req.ID, req.Code, opts)
	}
	return p.c.Check(ctx, req.To, req.Code, opts)
}

func (p *clientProvider) Cancel(ctx context.Context, id string) (provider.Verification, error) {
	return p.c.Cancel(ctx, id)
}

func (p *clientProvider) Fetch(ctx context.Context, id string) (provider.Verification, error) {
	return p.c.Fetch(ctx, id)
}

func (p *clientProvider) Approve(ctx context.Context, id string) (provider.Verification, error) {
	return p.c.Approve(ctx, id)
}

// Capabilities returns the provider's.
func (p *clientProvider) Capabilities() provider.Capabilities { return p.c.Capabilities() }
