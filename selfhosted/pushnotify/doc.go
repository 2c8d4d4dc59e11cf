// Package pushnotify delivers push challenges to devices: through Firebase
// Cloud Messaging (the HTTP v1 API, authorised with a service account) and
// through the Apple Push Notification service (HTTP/2 with token
// authentication), or not at all when the app polls.
//
// The self-hosted provider calls a [Notifier] when it creates a push
// challenge (and when it is asked to re-send one); applications that build
// their own push flow may call the notifiers directly. Import it to
// configure those notifiers; the provider's types are in
// [github.com/verifykit/verifykit/selfhosted].
//
// Every notifier sends the payload Twilio's Verify SDKs expect in the app:
// the keys type ("verify_push_challenge"), challenge_sid, factor_sid and
// message. [FCM] sends them as a data message with high priority; [APNs]
// sends them beside an alert that shows the message.
//
// # Errors
//
// A failed delivery is an [*Error]. It matches one of four sentinels with
// errors.Is, one for each decision the caller makes:
//
//   - [ErrUnregistered]: the device token is gone or was never valid (FCM
//     UNREGISTERED, APNs 410 Unregistered, BadDeviceToken); stop using it
//     and wait for the device to send a new one.
//   - [ErrRetryable]: try again later, after [Error.Wait] when the
//     service named one (429, 5xx, a broken connection).
//   - [ErrCredentials]: the service account, key, key ID or team ID is
//     wrong or revoked; retrying will not help.
//   - [ErrRejected]: the service refused the request for another reason
//     (the topic, the payload, no notifier for the platform).
//
// It also matches the provider sentinel with the same meaning
// (provider.ErrUndeliverable, ErrRateLimited, ErrUnavailable,
// ErrOutcomeUnknown, ErrUnauthorized, ErrInvalidRequest, ErrUnsupported).
// No error, and no print verb applied to a notifier or a [Notification],
// shows a device token, a key, an access token or a JWT.
//
// # Retries
//
// A notifier tries once, except that it fetches a fresh access token (FCM)
// or signs a fresh provider token (APNs) and tries once more when the
// service says the one it used has expired. A repeated notification is
// harmless (the device fetches the challenge and shows it once), so the
// caller may retry any [ErrRetryable] failure.
//
// # Testing
//
// [WithEndpoint] points a notifier at a local server; FCM's token endpoint
// is the token_uri of the service account. The package's own tests run
// against servers that check the wire format: paths, headers, the signed
// JWTs (verified with the public key) and the JSON bodies.
package pushnotify
