package verify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

func TestRecoverCheckAfterLostCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	c := newClient(t, f)
	v, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := f.LastCode("+14155552671")

	// A lost wrong code: still pending, so not approved.
	f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrOutcomeUnknown, Processed: true})
	if _, err := c.CheckID(ctx, v.ID, "000000", nil); !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Fatalf("lost check: %v", err)
	}
	got, err := c.RecoverCheck(ctx, v.ID)
	if err != nil || got.Status != verify.StatusPending || got.ID != v.ID {
		t.Fatalf("RecoverCheck after a lost wrong code = %v, %v, want pending", got, err)
	}

	// A lost right code: gone, and that stays unknown.
	f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrOutcomeUnknown, Processed: true})
	if _, err := c.CheckID(ctx, v.ID, code, nil); !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Fatalf("lost check: %v", err)
	}
	_, err = c.RecoverCheck(ctx, v.ID)
	if !errors.Is(err, verify.ErrOutcomeUnknown) || !errors.Is(err, verify.ErrNotFound) || verify.CodeOf(err) != verify.CodeOutcomeUnknown {
		t.Errorf("RecoverCheck after a lost approval = %v, want ErrOutcomeUnknown (and ErrNotFound)", err)
	}
	var ve *verify.Error
	if !errors.As(err, &ve) || ve.Op != "recover check" {
		t.Errorf("RecoverCheck error %#v, want a *verify.Error with Op \"recover check\"", err)
	}

	// A provider that cannot fetch cannot resolve.
	if _, err := newClient(t, &recorder{}).RecoverCheck(ctx, "VE1"); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("RecoverCheck without Fetcher = %v, want ErrUnsupported", err)
	}
	if _, err := c.RecoverCheck(ctx, "bad id"); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("RecoverCheck(bad id) = %v", err)
	}
}

func TestRecoverStartAfterLostStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	c := newClient(t, f)
	f.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrOutcomeUnknown, Processed: true})
	if _, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil); !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Fatalf("lost start: %v", err)
	}
	sent, _ := f.LastMessage("+14155552671")
	v, err := c.RecoverStart(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil || v.ID != sent.VerificationID {
		t.Fatalf("RecoverStart = %v, %v, want the verification %q the lost start made", v, err, sent.VerificationID)
	}
	code, _ := f.LastCode("+14155552671")
	if code != sent.Code {
		t.Error("RecoverStart re-sent a different code")
	}
}

// conflicting is a provider that, like Vonage, checks by ID only and
// answers a repeated Start with a conflict naming the pending one.
type conflicting struct {
	recorder
	pending string
}

func (p *conflicting) Capabilities() provider.Capabilities { return provider.Capabilities{} }

func (p *conflicting) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	p.recorder.Start(ctx, req)
	if p.pending != "" {
		return provider.Verification{}, conflictError{id: p.pending}
	}
	p.pending = "REQ-1"
	return provider.Verification{ID: p.pending, To: req.To, Status: provider.StatusPending}, nil
}

type conflictingFetcher struct{ *conflicting }

func (p conflictingFetcher) Fetch(_ context.Context, id string) (provider.Verification, error) {
	return provider.Verification{ID: id, To: "+14155552671", Channel: provider.ChannelSMS, Status: provider.StatusPending, RawStatus: "in_progress"}, nil
}

func TestRecoverStartOnConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := &conflicting{pending: "REQ-7"}
	c := newClient(t, p)
	v, err := c.RecoverStart(ctx, "+1 415 555 2671", verify.ChannelSMS, nil)
	if err != nil || v.ID != "REQ-7" || v.To != "+14155552671" || v.Status != verify.StatusPending {
		t.Errorf("RecoverStart on a conflict = %v, %v, want the pending REQ-7", v, err)
	}
	cf := newClient(t, conflictingFetcher{&conflicting{pending: "REQ-8"}})
	v, err = cf.RecoverStart(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil || v.ID != "REQ-8" || v.RawStatus != "in_progress" {
		t.Errorf("RecoverStart with a Fetcher = %v, %v, want the fetched REQ-8", v, err)
	}
	// A Fetcher that cannot fetch this one (a router whose route cannot):
	// the ID is still recovered.
	cu := newClient(t, unsupportedFetcher{&conflicting{pending: "REQ-9"}})
	v, err = cu.RecoverStart(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil || v.ID != "REQ-9" || v.Status != verify.StatusPending {
		t.Errorf("RecoverStart with a Fetcher answering ErrUnsupported = %v, %v, want the pending REQ-9", v, err)
	}
	// A conflict that names nothing is returned as it is.
	cb := newClient(t, &noID{&conflicting{}})
	if _, err := cb.RecoverStart(ctx, "+14155552671", verify.ChannelSMS, nil); !errors.Is(err, verify.ErrConflict) {
		t.Errorf("RecoverStart on an anonymous conflict = %v, want ErrConflict", err)
	}
	// No conflict: a plain start.
	fresh := &conflicting{}
	v, err = newClient(t, fresh).RecoverStart(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil || v.ID != "REQ-1" {
		t.Errorf("RecoverStart with nothing pending = %v, %v, want a new start", v, err)
	}
}

type unsupportedFetcher struct{ *conflicting }

func (p unsupportedFetcher) Fetch(context.Context, string) (provider.Verification, error) {
	return provider.Verification{}, provider.ErrUnsupported
}

// noID answers every Start with a conflict that names no verification.
type noID struct{ *conflicting }

func (p *noID) Start(context.Context, provider.StartRequest) (provider.Verification, error) {
	return provider.Verification{}, provider.ErrConflict
}

func ExampleClient_RecoverCheck() {
	ctx := context.Background()
	f := fake.MustNew()
	client, _ := verify.New(f)
	v, _ := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	code, _ := f.LastCode("+14155552671")

	// The check approves, but its answer is lost.
	f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: verify.ErrOutcomeUnknown, Processed: true})
	_, err := client.CheckID(ctx, v.ID, code, nil)
	fmt.Println("check:", verify.CodeOf(err))

	_, err = client.RecoverCheck(ctx, v.ID)
	switch {
	case errors.Is(err, verify.ErrOutcomeUnknown):
		fmt.Println("resolve: gone, approval unknown: start again, never say the code was wrong")
	case err != nil:
		fmt.Println("resolve failed:", err)
	default:
		fmt.Println("resolve: still pending, not approved: ask for the code again")
	}
	// Output:
	// check: outcome_unknown
	// resolve: gone, approval unknown: start again, never say the code was wrong
}
