// Package route is a verification provider built from other providers: it
// chooses one per start by channel and by the destination's country or
// prefix, survives an outage of one by failing over to the next, and sends
// every later call of a verification back to the provider that started it.
//
//	r, err := route.New([]route.Route{
//		{Name: "twilio", Provider: tw},                   // primary
//		{Name: "vonage", Provider: vg},                   // fallback
//	}, route.WithHook(func(ctx context.Context, e route.Event) { ... }))
//	client, err := verify.New(r)
//
// # Failover: only when nothing can have been sent
//
// A start goes to the first route that takes its channel and target. When
// that route fails with provider.ErrUnavailable, provider.ErrUndeliverable
// or provider.ErrUnsupported — failures that prove no code went out — the
// next matching route is tried. Any other failure ends the start, above all
// provider.ErrOutcomeUnknown: the code may be on its way, and a second
// provider would send a second one. Rate limits, too-many-sends, invalid
// input and credentials errors are not failed over either: they say
// something about the request or the account that another provider would
// not fix, or would fix by sending more than the application allowed.
//
// Checks, cancels and fetches are never failed over. Every ID the Router
// returns names its route ("vonage:2fe6…"; see ServedBy), and every call
// with that ID goes to that route's provider only. An ID the Router did not
// issue is provider.ErrNotFound.
//
// # Memory of pending verifications
//
// The Router remembers, for a while (WithSticky), which route serves the
// verification it last started to each target, so that a repeated start
// goes to the same provider rather than opening a second verification
// elsewhere. WithCheckByTo also lets checks be keyed by To alone through
// that memory. It is this process's memory unless WithStore keeps it in a
// store.Store (Redis through store/redisstore, say) that every replica
// shares; targets are stored only as hashes.
//
// # Capabilities
//
// A Router declares ResendOnStart only when every route does, CheckByTo
// only with WithCheckByTo, and the union of its routes' channels. It has
// Cancel, Fetch and Approve; a verification whose route lacks the
// operation gets provider.ErrUnsupported, as provider's doc allows.
//
// # Adding a Router to an existing application
//
// The Router's IDs name their route ("twilio:VE…"). IDs the application
// stored before it had a Router name none; WithUnprefixedIDs sends them to
// the route of the provider that issued them, so verifications pending
// when the Router is deployed can still be checked.
//
// # Reporting
//
// WithHook receives an Event for every call to a route (which route, the
// outcome, whether it failed over, how long it took); WithLogger logs the
// same with log/slog. Errors are *Error values that name the route and
// wrap the provider's error, so errors.Is and errors.As reach it.
package route
