package recovery_test

import (
	"context"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/fake"
	"github.com/verifykit/verifykit/store"
	"github.com/verifykit/verifykit/verify"
	"github.com/verifykit/verifykit/verify/recovery"
)

// Issue codes at enrolment, use one when the phone is lost, and
// regenerate them with a fresh approval of the new factor.
func Example() {
	ctx := context.Background()
	clock := fake.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	f := fake.MustNew(fake.WithClock(clock.Now))
	client, _ := verify.New(f)
	st, _ := store.NewMemory(store.WithClock(clock.Now))
	codes, _ := recovery.New(st, client, recovery.WithClock(clock.Now),
		recovery.WithOnEvent(func(_ context.Context, e verify.LifecycleEvent) {
			fmt.Println("event:", e.Kind, "left:", e.Remaining)
		}))
	const user = "5f0c6b1e-user-0001"

	// Enrolment: confirm the authenticator app, then show the codes once.
	e, _ := client.EnrollTOTP(ctx, user, "Phone", nil)
	code, _ := f.FactorCode(user, e.ID)
	client.ConfirmFactor(ctx, user, e.ID, code)
	set, _ := codes.Issue(ctx, user)
	fmt.Println("printed:", set)
	shown := set.Codes() // show these once; they are never stored

	// The phone is lost: one code logs in, once.
	r, _ := codes.Use(ctx, user, shown[0])
	fmt.Println("accepted:", r.Accepted, "remaining:", r.Remaining)
	r, _ = codes.Use(ctx, user, shown[0])
	fmt.Println("again:", r.Accepted)

	// A new phone: enrol and approve a challenge, then regenerate.
	client.DeleteFactor(ctx, user, e.ID)
	e, _ = client.EnrollTOTP(ctx, user, "New phone", nil)
	code, _ = f.FactorCode(user, e.ID)
	client.ConfirmFactor(ctx, user, e.ID, code)
	clock.Advance(30 * time.Second)
	code, _ = f.FactorCode(user, e.ID)
	ch, _ := client.CheckFactor(ctx, user, e.ID, code)
	set, err := codes.Regenerate(ctx, user, recovery.Proof{ChallengeID: ch.ID})
	fmt.Println("regenerated:", set.Len(), err)
	r, _ = codes.Use(ctx, user, shown[1])
	fmt.Println("old code:", r.Accepted)
	// Output:
	// event: recovery_codes.issued left: 10
	// printed: recovery.Set{Len:10}
	// event: recovery_code.used left: 9
	// accepted: true remaining: 9
	// again: false
	// event: recovery_codes.issued left: 10
	// regenerated: 10 <nil>
	// old code: false
}
