package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// PushProvider is implemented by providers that offer push factors: a
// phone holds a P-256 key, enrols it with a short-lived access token the
// application issues, and approves or denies the challenges the
// application creates by signing them. verify.Client type-asserts it and
// answers ErrUnsupported when a provider lacks it.
//
// The lifecycle: CreateAccessToken (the backend, for an identity) → the
// device creates its factor with the token and verifies it with its key
// ([PushDeviceAPI]; FactorUnverified, then FactorVerified) →
// CreatePushChallenge at each login (ChallengePending; the provider
// notifies the device) → the device answers (ChallengeApproved or
// ChallengeDenied) or the challenge expires (ChallengeExpired) → the
// backend reads the status with FetchChallenge (polling) or is told by
// an event.
//
// Nothing but the device's key approves or denies a push challenge: there
// is no backend call that does. A provider refuses a wrong or replayed
// signature and counts it against the factor like a wrong TOTP code
// (ErrTooManyChecks once too many).
type PushProvider interface {
	FactorProvider

	// CreateAccessToken issues the short-lived token a device uses, once,
	// to create a push factor for req.Identity.
	CreateAccessToken(ctx context.Context, req AccessTokenRequest) (AccessToken, error)

	// CreatePushChallenge creates a pending challenge of a verified push
	// factor and notifies its device (unless the factor's platform is
	// PlatformNone: the device then polls). A failed notification does not
	// fail the call: the challenge exists and the device may still poll;
	// NotifyChallenge tries again.
	CreatePushChallenge(ctx context.Context, req PushChallengeRequest) (Challenge, error)

	// NotifyChallenge sends a pending challenge's notification again. ttl
	// is how long the notification service may hold it (0 to 5 minutes;
	// 0: deliver now or never; a negative ttl means the provider's
	// default). A challenge that is no longer pending gives
	// ErrInvalidRequest; one whose factor has no notification platform
	// gives ErrUnsupported.
	NotifyChallenge(ctx context.Context, identity, challengeID string, ttl time.Duration) error

	// ListChallenges returns identity's challenges, oldest first,
	// optionally only those of q.FactorID and with q.Status.
	ListChallenges(ctx context.Context, identity string, q ChallengeQuery) ([]Challenge, error)
}

// PushDeviceAPI is the server side of the push device protocol, as a
// phone calls it: what Twilio's Verify device SDKs send, with the
// credentials they send (an access token to create a factor, then a
// request JWT signed by the factor's key, see package pushdevice). A
// provider's in-process implementation (the fake's) and an HTTP client
// of a server's device endpoints both satisfy it, so one device
// simulator drives either.
//
// Errors: a refused access token or request JWT gives ErrUnauthorized,
// with the server's time (see [ServerTime]) when the JWT was used outside
// its validity window, so the device can correct its clock and retry; a
// wrong signature in a payload gives ErrInvalidRequest and is counted
// (ErrTooManyChecks once too many).
type PushDeviceAPI interface {
	// CreateDeviceFactor creates an unverified push factor for the
	// identity the access token was issued for.
	CreateDeviceFactor(ctx context.Context, accessToken string, req DeviceFactorRequest) (DeviceFactor, error)

	// VerifyDeviceFactor verifies a new factor with authPayload, the
	// standard base64 of the DER ECDSA signature over the factor's ID.
	// auth is a request JWT.
	VerifyDeviceFactor(ctx context.Context, auth, identity, factorID, authPayload string) (Factor, error)

	// FetchDeviceChallenge returns a challenge as the device sees it: its
	// JSON and the fields an answer signs.
	FetchDeviceChallenge(ctx context.Context, auth, identity, challengeID string) (DeviceChallenge, error)

	// ListDeviceChallenges returns the challenges of the factor, for a
	// device that polls, oldest first, optionally only those with status.
	ListDeviceChallenges(ctx context.Context, auth, identity, factorID string, status ChallengeStatus) ([]DeviceChallenge, error)

	// AnswerDeviceChallenge approves or denies a pending challenge:
	// authPayload is the challenge-response JWT whose signed "status"
	// says which.
	AnswerDeviceChallenge(ctx context.Context, auth, identity, challengeID, authPayload string) (Challenge, error)

	// UpdateDeviceFactor changes the device's own factor's notification
	// configuration (a rotated APNs or FCM token), as the SDKs do when the
	// token changes. Only the factor's own key authenticates it.
	UpdateDeviceFactor(ctx context.Context, auth, identity, factorID string, req DeviceFactorUpdate) (Factor, error)

	// DeleteDeviceFactor deletes the device's own factor.
	DeleteDeviceFactor(ctx context.Context, auth, identity, factorID string) error
}

// PushNotifier delivers a push challenge's notification to a device
// (through APNs or FCM). Providers that deliver notifications themselves
// accept one as an option; Notify must be safe for concurrent use.
type PushNotifier interface {
	// Notify delivers n, or returns why not. It must not retry for longer
	// than ctx allows.
	Notify(ctx context.Context, n PushNotification) error
}

// PushNotification is what a device is sent when a challenge is created
// or NotifyChallenge re-sends it. The data keys a device app reads are
// those of Twilio's SDKs: "type" = "verify_push_challenge",
// "challenge_sid", "factor_sid" and "message" (see Data).
type PushNotification struct {
	// Identity, FactorID and ChallengeID name the challenge.
	Identity, FactorID, ChallengeID string
	// Platform is PlatformAPN or PlatformFCM.
	Platform NotificationPlatform
	// Token is the device's APNs device token or FCM registration token.
	// It is never printed.
	Token string
	// AppID is the device app's bundle or package ID (an APNs topic).
	AppID string
	// Message is the challenge's message, shown on the phone.
	Message string
	// TTL is how long the notification service may hold it; 0: deliver
	// now or never.
	TTL time.Duration
}

// Data returns the notification's data payload.
func (n PushNotification) Data() map[string]string {
	return map[string]string{"type": "verify_push_challenge", "challenge_sid": n.ChallengeID, "factor_sid": n.FactorID, "message": n.Message}
}

// String describes the notification without the device token.
func (n PushNotification) String() string {
	return "PushNotification{Identity:" + maskTarget(n.Identity) + " FactorID:" + n.FactorID + " ChallengeID:" + n.ChallengeID +
		" Platform:" + string(n.Platform) + " Token:" + redacted + "}"
}

// GoString is like String.
func (n PushNotification) GoString() string { return n.String() }

// Format makes every verb print String, so no verb reveals the token.
func (n PushNotification) Format(f fmt.State, verb rune) { formatString(f, verb, n.String()) }

// NotificationPlatform is how a push factor's device is notified.
type NotificationPlatform string

// The notification platforms.
const (
	PlatformAPN  NotificationPlatform = "apn"  // Apple Push Notification service
	PlatformFCM  NotificationPlatform = "fcm"  // Firebase Cloud Messaging
	PlatformNone NotificationPlatform = "none" // no notification: the device app polls
)

// The push protocol's limits, as Twilio Verify sets them.
const (
	// PushAlg is the only push binding algorithm (ECDSA P-256, SHA-256).
	PushAlg = "ES256"
	// DefaultAccessTokenTTL, MinAccessTokenTTL and MaxAccessTokenTTL
	// bound an access token's life.
	DefaultAccessTokenTTL = time.Minute
	MinAccessTokenTTL     = time.Minute
	MaxAccessTokenTTL     = 5 * time.Minute
	// MaxNotificationTTL is the longest NotifyChallenge ttl;
	// DefaultNotificationTTL what a negative ttl means.
	MaxNotificationTTL     = 5 * time.Minute
	DefaultNotificationTTL = 5 * time.Minute
	// MaxPushFields is how many labelled fields a challenge may show.
	MaxPushFields = 20
)

// AccessTokenRequest asks for a push enrolment token.
type AccessTokenRequest struct {
	// Identity is the user's identity; see ValidIdentity. Required.
	Identity string
	// FactorFriendlyName, when set, names the factor the device creates
	// (1 to 64 bytes).
	FactorFriendlyName string
	// TTL is the token's life, 1 to 5 minutes; zero means 1 minute.
	TTL time.Duration
}

// Validate returns an error naming the first malformed field.
func (r AccessTokenRequest) Validate() error {
	switch {
	case !ValidIdentity(r.Identity):
		return fmt.Errorf("identity must be 8 to 64 letters, digits or dashes")
	case len(r.FactorFriendlyName) > 64 || !utf8.ValidString(r.FactorFriendlyName):
		return fmt.Errorf("factor friendly name must be at most 64 bytes of UTF-8")
	case r.TTL != 0 && (r.TTL < MinAccessTokenTTL || r.TTL > MaxAccessTokenTTL):
		return fmt.Errorf("access token TTL must be 1 to 5 minutes")
	}
	return nil
}

// AccessToken is an issued push enrolment token: give Token, with the
// identity, to the device app (in a QR code or the app's session). It is
// a secret and works once, before ExpiresAt.
type AccessToken struct {
	// ID is the provider's identifier of the token.
	ID string
	// Identity is the identity whose factor the token creates.
	Identity string
	// FactorFriendlyName names the factor to create, or is empty.
	FactorFriendlyName string
	// Token is the secret the device sends. It is never printed.
	Token string
	// CreatedAt and ExpiresAt bound its life.
	CreatedAt, ExpiresAt time.Time
}

// String describes the token with its secret redacted.
func (t AccessToken) String() string {
	return "AccessToken{ID:" + t.ID + " Identity:" + maskTarget(t.Identity) + " Token:" + redacted + "}"
}

// GoString is like String.
func (t AccessToken) GoString() string { return t.String() }

// Format makes every verb print String, so no verb reveals the token.
func (t AccessToken) Format(f fmt.State, verb rune) { formatString(f, verb, t.String()) }

// PushField is a labelled value a push challenge shows on the phone.
type PushField struct {
	// Label is at most 36 bytes; Value at most 128.
	Label, Value string
}

// PushDetails is what a push challenge shows and carries.
type PushDetails struct {
	// Message is shown on the phone: 1 to 256 bytes of UTF-8.
	Message string
	// Fields are shown below it, at most MaxPushFields.
	Fields []PushField
	// Hidden is not shown, only signed and returned (for example
	// {"ip": "192.0.2.1"}): string values, at most 1024 bytes as JSON.
	Hidden map[string]string
}

// Validate returns an error naming the first malformed part.
func (d PushDetails) Validate() error {
	if d.Message == "" || len(d.Message) > 256 || !utf8.ValidString(d.Message) {
		return fmt.Errorf("push message must be 1 to 256 bytes of UTF-8")
	}
	if len(d.Fields) > MaxPushFields {
		return fmt.Errorf("a push challenge has at most %d fields", MaxPushFields)
	}
	for i, f := range d.Fields {
		if f.Label == "" || len(f.Label) > 36 || len(f.Value) > 128 || !utf8.ValidString(f.Label) || !utf8.ValidString(f.Value) {
			return fmt.Errorf("push field %d: label must be 1 to 36 bytes and value at most 128, UTF-8", i)
		}
	}
	return validStringMap("hidden details", d.Hidden)
}

// validStringMap checks a map sent as a JSON string: UTF-8, at most 1024
// bytes encoded.
func validStringMap(what string, m map[string]string) error {
	if len(m) == 0 {
		return nil
	}
	n := 2
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%s must be UTF-8", what)
		}
		n += len(strconv.Quote(k)) + len(strconv.Quote(v)) + 2
	}
	if n > 1024 {
		if b, _ := json.Marshal(m); len(b) > 1024 {
			return fmt.Errorf("%s must be at most 1024 bytes as JSON", what)
		}
	}
	return nil
}

// PushChallengeRequest asks a provider to create a push challenge.
type PushChallengeRequest struct {
	// Identity and FactorID name a verified push factor. Required.
	Identity, FactorID string
	// Details is what the phone shows and the device signs. Message is
	// required.
	Details PushDetails
	// ExpiresIn is how long the challenge waits for an answer, from its
	// creation by the provider's clock: at most an hour; zero means 5
	// minutes.
	ExpiresIn time.Duration
	// Extensions carries provider-specific parameters.
	Extensions []Extension
}

// String describes the request without its details.
func (r PushChallengeRequest) String() string {
	return "PushChallengeRequest{Identity:" + maskTarget(r.Identity) + " FactorID:" + r.FactorID + "}"
}

// ChallengeQuery filters ListChallenges. Zero fields do not filter.
type ChallengeQuery struct {
	FactorID string
	Status   ChallengeStatus
}

// PushFactorConfig is a push factor's configuration, in Factor.Push.
type PushFactorConfig struct {
	// Platform is how the device is notified.
	Platform NotificationPlatform
	// AppID is the device app's bundle or package ID.
	AppID string
	// NotificationToken is the device's APNs or FCM token (empty for
	// PlatformNone). It is not printed by Factor's String.
	NotificationToken string
	// SDKVersion is what the device reported.
	SDKVersion string
	// CredentialID is the key ID ("kid") of the device's request JWTs.
	CredentialID string
	// Metadata is what the device reported about itself.
	Metadata map[string]string
}

// String describes the configuration without the notification token.
func (c PushFactorConfig) String() string {
	s := "PushFactorConfig{Platform:" + string(c.Platform) + " AppID:" + strconv.Quote(c.AppID) + " CredentialID:" + c.CredentialID
	if c.NotificationToken != "" {
		s += " NotificationToken:" + redacted
	}
	return s + "}"
}

// GoString is like String.
func (c PushFactorConfig) GoString() string { return c.String() }

// Format makes every verb print String, so no verb reveals the token.
func (c PushFactorConfig) Format(f fmt.State, verb rune) { formatString(f, verb, c.String()) }

// DeviceFactorRequest is what a device sends to create its push factor.
type DeviceFactorRequest struct {
	// FriendlyName names the factor, 1 to 64 bytes; empty takes the name
	// the access token carries.
	FriendlyName string
	// PublicKey is the standard base64 of the PKIX SubjectPublicKeyInfo
	// DER of the device's P-256 key. Required.
	PublicKey string
	// Alg is PushAlg. Required.
	Alg string
	// Platform, NotificationToken (32 to 255 bytes; empty for
	// PlatformNone), AppID (1 to 100 bytes) and SDKVersion configure the
	// factor.
	Platform          NotificationPlatform
	NotificationToken string
	AppID             string
	SDKVersion        string
	// Metadata describes the device (string values, at most 1024 bytes
	// as JSON).
	Metadata map[string]string
}

// Validate returns an error naming the first malformed field; it does
// not parse the key.
func (r DeviceFactorRequest) Validate() error {
	switch {
	case len(r.FriendlyName) > 64 || !utf8.ValidString(r.FriendlyName):
		return fmt.Errorf("friendly name must be at most 64 bytes of UTF-8")
	case r.PublicKey == "":
		return fmt.Errorf("Binding.PublicKey is required")
	case r.Alg != PushAlg:
		return fmt.Errorf("Binding.Alg must be ES256")
	case r.AppID == "" || len(r.AppID) > 100:
		return fmt.Errorf("Config.AppId must be 1 to 100 bytes")
	case len(r.SDKVersion) > 64:
		return fmt.Errorf("Config.SdkVersion must be at most 64 bytes")
	}
	if err := validNotification(r.Platform, r.NotificationToken); err != nil {
		return err
	}
	return validStringMap("metadata", r.Metadata)
}

// validNotification checks a notification platform and its token.
func validNotification(p NotificationPlatform, token string) error {
	switch p {
	case PlatformAPN, PlatformFCM:
		if len(token) < 32 || len(token) > 255 {
			return fmt.Errorf("Config.NotificationToken must be 32 to 255 bytes")
		}
	case PlatformNone:
		if token != "" {
			return fmt.Errorf("Config.NotificationToken must be empty for platform none")
		}
	default:
		return fmt.Errorf("Config.NotificationPlatform must be apn, fcm or none")
	}
	return nil
}

// DeviceFactorUpdate is what a device sends to change its push factor's
// configuration (Twilio's UpdateFactor without AuthPayload), typically a
// rotated notification token.
type DeviceFactorUpdate struct {
	// Platform and NotificationToken (32 to 255 bytes; empty for
	// PlatformNone) replace the factor's. Platform is required.
	Platform          NotificationPlatform
	NotificationToken string
	// SDKVersion, when set, replaces the factor's (at most 64 bytes).
	SDKVersion string
	// FriendlyName, when set, renames the factor (at most 64 bytes).
	FriendlyName string
}

// Validate returns an error naming the first malformed field, with the
// rules of a new factor.
func (r DeviceFactorUpdate) Validate() error {
	switch {
	case len(r.FriendlyName) > 64 || !utf8.ValidString(r.FriendlyName):
		return fmt.Errorf("friendly name must be at most 64 bytes of UTF-8")
	case len(r.SDKVersion) > 64:
		return fmt.Errorf("Config.SdkVersion must be at most 64 bytes")
	}
	return validNotification(r.Platform, r.NotificationToken)
}

// String describes the update without the token.
func (r DeviceFactorUpdate) String() string {
	return "DeviceFactorUpdate{FriendlyName:" + strconv.Quote(r.FriendlyName) + " Platform:" + string(r.Platform) + " NotificationToken:" + redacted + "}"
}

// GoString is like String.
func (r DeviceFactorUpdate) GoString() string { return r.String() }

// Format makes every verb print String, so no verb reveals the token.
func (r DeviceFactorUpdate) Format(f fmt.State, verb rune) { formatString(f, verb, r.String()) }

// String describes the request without the key and token.
func (r DeviceFactorRequest) String() string {
	return "DeviceFactorRequest{FriendlyName:" + strconv.Quote(r.FriendlyName) + " Platform:" + string(r.Platform) + " AppID:" + strconv.Quote(r.AppID) + "}"
}

// GoString is like String.
func (r DeviceFactorRequest) GoString() string { return r.String() }

// Format makes every verb print String, so no verb reveals the token.
func (r DeviceFactorRequest) Format(f fmt.State, verb rune) { formatString(f, verb, r.String()) }

// DeviceFactor is a new push factor as its device learns it: what it
// needs to sign its later requests.
type DeviceFactor struct {
	Factor
	// AccountID is the "sub" of the device's request JWTs.
	AccountID string
	// CredentialID is their "kid".
	CredentialID string
}

// DeviceChallenge is a challenge as a device fetches it.
type DeviceChallenge struct {
	Challenge
	// JSON is the challenge as the server rendered it; an answer signs
	// the values of SignatureFields exactly as they are in it.
	JSON []byte
	// SignatureFields names the fields an answer signs (the
	// Twilio-Verify-Signature-Fields header). Empty unless pending.
	SignatureFields []string
}

// ServerTime reports the server's clock carried by an ErrUnauthorized
// refusal of a request JWT used outside its validity window (the HTTP
// Date header of a 401), when some error in err's tree has a ServerTime
// method returning a non-zero time. A device corrects its clock by it
// and retries once.
func ServerTime(err error) (time.Time, bool) {
	var st interface{ ServerTime() time.Time }
	if errors.As(err, &st) {
		if t := st.ServerTime(); !t.IsZero() {
			return t, true
		}
	}
	return time.Time{}, false
}
