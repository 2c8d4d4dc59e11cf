package provider_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/verify"
)

// console is the smallest provider: it "sends" a code by printing it, keeps
// pending verifications in memory, and declares what it can do. A real one
// also limits sends and wrong codes, expires verifications, and runs the
// conformance suite (package providertest).
type console struct {
	mu      sync.Mutex
	n       int
	pending map[string]provider.Verification // by ID
	codes   map[string]string                // by ID
}

func (c *console) Capabilities() provider.Capabilities {
	// Checks by ID only, SMS only, and a second Start is a conflict.
	return provider.Capabilities{Channels: []provider.Channel{provider.ChannelSMS}}
}

func (c *console) Start(ctx context.Context, req provider.StartRequest) (provider.Verification, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	v := provider.Verification{ID: "CV" + strconv.Itoa(c.n), To: req.To, Channel: req.Channel, Status: provider.StatusPending}
	code := fmt.Sprintf("%06d", 100000+c.n)
	c.pending[v.ID], c.codes[v.ID] = v, code
	fmt.Printf("SMS to %s: your code is %s\n", req.To, code)
	return v, nil
}

func (c *console) Check(ctx context.Context, req provider.CheckRequest) (provider.Verification, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.pending[req.ID]
	if !ok {
		return provider.Verification{}, provider.ErrNotFound // approved, expired or never started
	}
	if req.Code != c.codes[req.ID] {
		return v, nil // a wrong code is an outcome: still pending, no error
	}
	delete(c.pending, req.ID)
	v.Status = provider.StatusApproved
	return v, nil
}

// A provider implements Start and Check, and declares the rest; verify.Client
// does the normalising, the validation and the errors around it, and answers
// ErrUnsupported for what the provider does not declare.
func Example() {
	ctx := context.Background()
	client, err := verify.New(&console{pending: map[string]provider.Verification{}, codes: map[string]string{}})
	if err != nil {
		panic(err)
	}
	v, err := client.Start(ctx, "+1 415 555 2671", verify.ChannelSMS, nil)
	if err != nil {
		panic(err)
	}
	v, _ = client.CheckID(ctx, v.ID, "000000", nil)
	fmt.Println("wrong code:", v.Status)
	v, _ = client.CheckID(ctx, v.ID, "100001", nil)
	fmt.Println("right code:", v.Status)

	_, err = client.Check(ctx, "+14155552671", "100001", nil) // by target: not declared
	fmt.Println("check by target unsupported:", errors.Is(err, verify.ErrUnsupported))
	_, err = client.Start(ctx, "+14155552671", verify.ChannelCall, nil) // a channel not declared
	fmt.Println("call unsupported:", errors.Is(err, verify.ErrUnsupported))
	// Output:
	// SMS to +14155552671: your code is 100001
	// wrong code: pending
	// right code: approved
	// check by target unsupported: true
	// call unsupported: true
}

// CapabilitiesOf reads what a provider declares; a provider that declares
// nothing has none of the optional capabilities.
func ExampleCapabilitiesOf() {
	caps := provider.CapabilitiesOf(&console{})
	fmt.Println("check by target:", caps.CheckByTo)
	fmt.Println("sms:", caps.Supports(provider.ChannelSMS), "call:", caps.Supports(provider.ChannelCall))
	// Output:
	// check by target: false
	// sms: true call: false
}
