package twiliotest

// attempt is one Verification Attempt.
type attempt struct{}
