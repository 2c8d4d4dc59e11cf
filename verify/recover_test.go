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

func TestResolveAfterLostCheck(t *testing.T) {
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
	got, err := c.Resolve(ctx, v.ID)
	if err != nil || got.Status != verify.StatusPending || got.ID != v.ID {
		t.Fatalf("Resolve after a lost wrong code = %v, %v, want pending", got, err)
	}

	// A lost right code: gone, and that stays unknown.
	f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: provider.ErrOutcomeUnknown, Processed: true})
	if _, err := c.CheckID(ctx, v.ID, code, nil); !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Fatalf("lost check: %v", err)
	}
	_, err = c.Resolve(ctx, v.ID)
	if !errors.Is(err, verify.ErrOutcomeUnknown) || !errors.Is(err, verify.ErrNotFound) || verify.CodeOf(err) != verify.CodeOutcomeUnknown {
		t.Errorf("Resolve after a lost approval = %v, want ErrOutcomeUnknown (and ErrNotFound)", err)
	}
	var ve *verify.Error
	if !errors.As(err, &ve) || ve.Op != "resolve" {
		t.Errorf("Resolve error %#v, want a *verify.Error with Op resolve", err)
	}

	// A provider that cannot fetch cannot resolve.
	if _, err := newClient(t, &recorder{}).Resolve(ctx, "VE1"); !errors.Is(err, verify.ErrUnsupported) {
		t.Errorf("Resolve without Fetcher = %v, want ErrUnsupported", err)
	}
	if _, err := c.Resolve(ctx, "bad id"); !errors.Is(err, verify.ErrInvalidRequest) {
		t.Errorf("Resolve(bad id) = %v", err)
	}
}

func TestResumeAfterLostStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := fake.MustNew()
	c := newClient(t, f)
	f.InjectFault(fake.Fault{Op: fake.OpStart, Err: provider.ErrOutcomeUnknown, Processed: true})
	if _, err := c.Start(ctx, "+14155552671", verify.ChannelSMS, nil); !errors.Is(err, verify.ErrOutcomeUnknown) {
		t.Fatalf("lost start: %v", err)
	}
	sent, _ := f.LastMessage("+14155552671")
	v, err := c.Resume(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil || v.ID != sent.VerificationID {
		t.Fatalf("Resume = %v, %v, want the verification %q the lost start made", v, err, sent.VerificationID)
	}
	code, _ := f.LastCode("+14155552671")
	if code != sent.Code {
		t.Error("Resume re-sent a different code")
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

func TestResumeOnConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := &conflicting{pending: "REQ-7"}
	c := newClient(t, p)
	v, err := c.Resume(ctx, "+1 415 555 2671", verify.ChannelSMS, nil)
	if err != nil || v.ID != "REQ-7" || v.To != "+14155552671" || v.Status != verify.StatusPending {
		t.Errorf("Resume on a conflict = %v, %v, want the pending REQ-7", v, err)
	}
	cf := newClient(t, conflictingFetcher{&conflicting{pending: "REQ-8"}})
	v, err = cf.Resume(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil || v.ID != "REQ-8" || v.RawStatus != "in_progress" {
		t.Errorf("Resume with a Fetcher = %v, %v, want the fetched REQ-8", v, err)
	}
	// A conflict that names nothing is returned as it is.
	cb := newClient(t, &noID{&conflicting{}})
	if _, err := cb.Resume(ctx, "+14155552671", verify.ChannelSMS, nil); !errors.Is(err, verify.ErrConflict) {
		t.Errorf("Resume on an anonymous conflict = %v, want ErrConflict", err)
	}
	// No conflict: a plain start.
	fresh := &conflicting{}
	v, err = newClient(t, fresh).Resume(ctx, "+14155552671", verify.ChannelSMS, nil)
	if err != nil || v.ID != "REQ-1" {
		t.Errorf("Resume with nothing pending = %v, %v, want a new start", v, err)
	}
}

// noID answers every Start with a conflict that names no verification.
type noID struct{ *conflicting }

func (p *noID) Start(context.Context, provider.StartRequest) (provider.Verification, error) {
	return provider.Verification{}, provider.ErrConflict
}

func ExampleClient_Resolve() {
	ctx := context.Background()
	f := fake.MustNew()
	client, _ := verify.New(f)
	v, _ := client.Start(ctx, "+14155552671", verify.ChannelSMS, nil)
	code, _ := f.LastCode("+14155552671")

	// The check approves, but its answer is lost.
	f.InjectFault(fake.Fault{Op: fake.OpCheck, Err: verify.ErrOutcomeUnknown, Processed: true})
	_, err := client.CheckID(ctx, v.ID, code, nil)
	fmt.Println("check:", verify.CodeOf(err))

	_, err = client.Resolve(ctx, v.ID)
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
