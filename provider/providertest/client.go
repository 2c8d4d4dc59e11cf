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

// factorsViaClient returns fp as a verify.Client reaches it: through
// verify.New(p), or, when p is nil (a harness that offers only factors),
// through a provider that has fp's factors and no verifications.
func factorsViaClient(p provider.Provider, fp provider.FactorProvider) (provider.FactorProvider, error) {
	if p == nil {
		p = factorsOnly{fp}
	}
	c, err := verify.New(p)
	if err != nil {
		return nil, err
	}
	return &clientFactors{c: c}, nil
}

// factorsOnly is a provider with factors and no verifications.
type factorsOnly struct{ provider.FactorProvider }

func (factorsOnly) Start(context.Context, provider.StartRequest) (provider.Verification, error) {
	return provider.Verification{}, provider.ErrUnsupported
}

func (factorsOnly) Check(context.Context, provider.CheckRequest) (provider.Verification, error) {
	return provider.Verification{}, provider.ErrUnsupported
}

// clientFactors presents a verify.Client's factor methods as a
// provider.FactorProvider, so the factor rules keep the contract's
// vocabulary.
type clientFactors struct{ c *verify.Client }

func (f *clientFactors) EnrollFactor(ctx context.Context, req provider.EnrollRequest) (provider.Enrollment, error) {
	if req.Type != provider.FactorTOTP {
		return provider.Enrollment{}, provider.ErrUnsupported // the client enrols TOTP factors only
	}
	e, err := f.c.EnrollTOTP(ctx, req.Identity, req.FriendlyName, &verify.EnrollOptions{
		Config: req.TOTP, ZeroSkew: req.SkewSet && req.TOTP.Skew == 0, Secret: req.Secret, Extensions: req.Extensions,
	})
	return e.Enrollment, err
}

func (f *clientFactors) ConfirmFactor(ctx context.Context, req provider.ConfirmRequest) (provider.Factor, error) {
	return f.c.ConfirmFactor(ctx, req.Identity, req.FactorID, req.Code)
}

func (f *clientFactors) ChallengeFactor(ctx context.Context, req provider.ChallengeRequest) (provider.Challenge, error) {
	return f.c.CheckFactor(ctx, req.Identity, req.FactorID, req.Code)
}

func (f *clientFactors) FetchChallenge(ctx context.Context, identity, challengeID string) (provider.Challenge, error) {
	return f.c.FetchChallenge(ctx, identity, challengeID)
}

func (f *clientFactors) FetchFactor(ctx context.Context, identity, factorID string) (provider.Factor, error) {
	return f.c.FetchFactor(ctx, identity, factorID)
}

func (f *clientFactors) ListFactors(ctx context.Context, identity string) ([]provider.Factor, error) {
	return f.c.ListFactors(ctx, identity)
}

func (f *clientFactors) DeleteFactor(ctx context.Context, identity, factorID string) error {
	return f.c.DeleteFactor(ctx, identity, factorID)
}

func (f *clientFactors) DeleteIdentity(ctx context.Context, identity string) error {
	return f.c.DeleteIdentity(ctx, identity)
}
