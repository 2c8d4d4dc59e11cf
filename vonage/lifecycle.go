package vonage

import "github.com/verifykit/verifykit/provider"

// Lifecycle maps the callback into the event type every provider shares
// (provider.LifecycleEvent, the same as verify.LifecycleEvent), so an
// application handles Vonage's callbacks and Twilio's webhooks alike:
//
//	cb, err := vonage.ParseCallback(r, secret)
//	if err != nil { … 401 … }
//	handle(ctx, cb.Lifecycle())
//
// A summary maps completed → verification.approved, failed →
// verification.failed, expired → verification.expired, user_rejected,
// rejected and blocked → verification.denied. An event (one step) maps
// completed → verification.approved and user_rejected or rejected →
// verification.denied; a step that failed or expired does not end the
// request (the next step follows), so it, and anything else, is "unknown"
// with Vonage's word in Status. ID is the request ID, the callback type,
// the channel and the status, for de-duplicating redeliveries; Time is the
// latest timestamp the callback carries. Callbacks carry no phone number,
// so Target is empty.
func (c Callback) Lifecycle() provider.LifecycleEvent {
	e := provider.LifecycleEvent{
		Kind:           provider.EventUnknown,
		ID:             c.RequestID + ":" + c.Type + ":" + c.Channel + ":" + c.Status,
		Provider:       "vonage",
		VerificationID: c.RequestID,
		Channel:        channelFromVonage(c.Channel),
		Status:         c.Status,
	}
	switch c.Type {
	case CallbackSummary:
		switch c.Status {
		case "completed":
			e.Kind = provider.EventVerificationApproved
		case "failed":
			e.Kind = provider.EventVerificationFailed
		case "expired":
			e.Kind = provider.EventVerificationExpired
		case "user_rejected", "rejected", "blocked":
			e.Kind = provider.EventVerificationDenied
		}
	case CallbackEvent:
		switch c.Status {
		case "completed":
			e.Kind = provider.EventVerificationApproved
		case "user_rejected", "rejected":
			e.Kind = provider.EventVerificationDenied
		}
	}
	for _, s := range []string{c.FinalizedAt, c.SubmittedAt, c.TriggeredAt} {
		if t := ParseTimestamp(s); !t.IsZero() {
			e.Time = t
			break
		}
	}
	return e
}

// channelFromVonage maps Vonage's channel name to the neutral channel;
// other names (rcs, whatsapp_interactive) pass through.
func channelFromVonage(ch string) provider.Channel {
	for _, c := range []provider.Channel{provider.ChannelSMS, provider.ChannelCall, provider.ChannelEmail, provider.ChannelWhatsApp, provider.ChannelSNA, ChannelRCS} {
		if name, _ := vonageChannel(c); name == ch && ch != "" {
			return c
		}
	}
	return provider.Channel(ch)
}
