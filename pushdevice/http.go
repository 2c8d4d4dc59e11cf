package pushdevice

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// HTTP is a provider.PushDeviceAPI that calls Twilio's Verify device
// endpoints, as the official Android and iOS SDKs do: Twilio itself, or
// the emulator (twilio/twiliotest). It sends the access token, and then
// the request JWT, as HTTP Basic auth with the user "token"; a 401 carries
// the server's Date, which a Device uses to correct its clock before its
// one retry. Create it with NewHTTP.
type HTTP struct {
	base, service string
	identityOf    func(accessToken string) (string, bool)
	client        *http.Client
	userAgent     string
}

// maxBody bounds what HTTP reads of an answer.
const maxBody = 1 << 20

// NewHTTP returns a transport for the Verify Service serviceSID (VA…) at
// baseURL (https://verify.twilio.com for Twilio, the emulator's URL in
// tests), for the entity identity: what the application hands the app
// with the access token, as in the SDKs' createFactor. hc nil means
// http.DefaultClient.
func NewHTTP(baseURL, serviceSID, identity string, hc *http.Client) (*HTTP, error) {
	if !provider.ValidIdentity(identity) {
		return nil, errors.New("pushdevice: NewHTTP: identity must be 8 to 64 letters, digits or dashes")
	}
	return NewHTTPFor(baseURL, serviceSID, func(string) (string, bool) { return identity, true }, hc)
}

// NewHTTPFor is like NewHTTP for a transport shared by the devices of
// several identities: identityOf says which identity an access token was
// issued for (as the application tells its app with the token), or false.
func NewHTTPFor(baseURL, serviceSID string, identityOf func(accessToken string) (string, bool), hc *http.Client) (*HTTP, error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, errors.New("pushdevice: NewHTTP: base URL must be an absolute http(s) URL")
	case !wire.ValidSID(serviceSID, "VA"):
		return nil, errors.New("pushdevice: NewHTTP: service SID must be VA followed by 32 hex digits")
	case identityOf == nil:
		return nil, errors.New("pushdevice: NewHTTPFor: nil identity function")
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &HTTP{base: strings.TrimRight(baseURL, "/"), service: serviceSID, identityOf: identityOf, client: hc,
		userAgent: "verifykit-pushdevice; Go; VerifySDK; " + SDKVersion}, nil
}

// String describes the transport.
func (h *HTTP) String() string {
	return "pushdevice.HTTP{Base:" + h.base + " Service:" + h.service + "}"
}

// Error is an answer of the server other than success.
type Error struct {
	// Status is the HTTP status, Code Twilio's error code (0 if none).
	Status, Code int
	// Date is the server's clock as its Date header said on a 401.
	Date time.Time
	kind error
}

// Error says the status and code; never a credential or payload.
func (e *Error) Error() string {
	s := "pushdevice: server answered " + strconv.Itoa(e.Status)
	if e.Code != 0 {
		s += " (code " + strconv.Itoa(e.Code) + ")"
	}
	return s
}

// Unwrap returns the provider sentinel of the status.
func (e *Error) Unwrap() error { return e.kind }

// ServerTime returns Date, for provider.ServerTime.
func (e *Error) ServerTime() time.Time { return e.Date }

// The Twilio error codes whose meaning a status does not say.
const (
	codeFactorAttempts   = 60310 // too many wrong answers for the factor
	codeChallengeExpired = 60323 // the challenge expired
)

// kindOf maps a status onto a provider sentinel.
func kindOf(status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return provider.ErrUnauthorized
	case status == http.StatusNotFound:
		return provider.ErrNotFound
	case status == http.StatusTooManyRequests:
		return provider.ErrRateLimited
	case status >= 500:
		return provider.ErrUnavailable
	}
	return provider.ErrInvalidRequest
}

// call makes one request with cred as the Basic password and returns the
// body of a 2xx answer and its header.
func (h *HTTP) call(ctx context.Context, method, path, cred string, form url.Values) ([]byte, http.Header, error) {
	target := h.base + path
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if len(form) > 0 {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, errors.New("pushdevice: building the request failed")
	}
	req.SetBasicAuth("token", cred)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", h.userAgent)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		// The URL holds no credential; the error names only the host.
		return nil, nil, errors.Join(provider.ErrUnavailable, errors.New("pushdevice: "+method+" "+req.URL.Host+": no answer"))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, errors.Join(provider.ErrUnavailable, errors.New("pushdevice: reading the answer failed"))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Status: resp.StatusCode, kind: kindOf(resp.StatusCode)}
		var tw struct {
			Code int `json:"code"`
		}
		if json.Unmarshal(data, &tw) == nil {
			e.Code = tw.Code
		}
		switch e.Code {
		case codeFactorAttempts:
			e.kind = provider.ErrTooManyChecks
		case codeChallengeExpired:
			e.kind = provider.ErrNotFound
		}
		if resp.StatusCode == http.StatusUnauthorized {
			if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
				e.Date = t
			}
		}
		return nil, nil, e
	}
	return data, resp.Header, nil
}

func (h *HTTP) entityPath(identity string) (string, error) {
	if !provider.ValidIdentity(identity) {
		return "", errors.Join(provider.ErrInvalidRequest, errors.New("pushdevice: malformed identity"))
	}
	return "/v2/Services/" + h.service + "/Entities/" + identity, nil
}

// idPath returns the path of a factor or challenge id of identity.
func (h *HTTP) idPath(identity, kind, id, prefix string) (string, error) {
	p, err := h.entityPath(identity)
	if err != nil {
		return "", err
	}
	if !wire.ValidSID(id, prefix) {
		return "", errors.Join(provider.ErrNotFound, errors.New("pushdevice: no "+kind+" has this SID"))
	}
	return p + "/" + kind + "/" + id, nil
}

// factorJSON is a factor as the device endpoints answer it.
type factorJSON struct {
	SID          string            `json:"sid"`
	AccountSID   string            `json:"account_sid"`
	Identity     string            `json:"identity"`
	FriendlyName string            `json:"friendly_name"`
	Status       string            `json:"status"`
	FactorType   string            `json:"factor_type"`
	DateCreated  time.Time         `json:"date_created"`
	DateUpdated  time.Time         `json:"date_updated"`
	Metadata     map[string]string `json:"metadata"`
	Config       struct {
		SdkVersion           string `json:"sdk_version"`
		AppID                string `json:"app_id"`
		NotificationPlatform string `json:"notification_platform"`
		NotificationToken    string `json:"notification_token"`
		CredentialSID        string `json:"credential_sid"`
	} `json:"config"`
}

func decodeFactor(data []byte) (factorJSON, provider.Factor, error) {
	var f factorJSON
	if err := json.Unmarshal(data, &f); err != nil || !wire.ValidSID(f.SID, "YF") {
		return f, provider.Factor{}, errors.Join(provider.ErrOutcomeUnknown, errors.New("pushdevice: the answer is not a factor"))
	}
	return f, provider.Factor{
		ID: f.SID, Identity: f.Identity, Type: provider.FactorType(f.FactorType), Status: provider.FactorStatus(f.Status),
		FriendlyName: f.FriendlyName, CreatedAt: f.DateCreated, UpdatedAt: f.DateUpdated,
		Push: &provider.PushFactorConfig{
			Platform: provider.NotificationPlatform(f.Config.NotificationPlatform), AppID: f.Config.AppID,
			NotificationToken: f.Config.NotificationToken, SDKVersion: f.Config.SdkVersion,
			CredentialID: f.Config.CredentialSID, Metadata: f.Metadata,
		},
	}, nil
}

// CreateDeviceFactor creates the push factor, with POST
// /v2/Services/{ServiceSid}/Entities/{Identity}/Factors and the SDK's
// form, authenticated with the access token.
func (h *HTTP) CreateDeviceFactor(ctx context.Context, accessToken string, req provider.DeviceFactorRequest) (provider.DeviceFactor, error) {
	identity, ok := h.identityOf(accessToken)
	if !ok {
		return provider.DeviceFactor{}, errors.Join(provider.ErrUnauthorized, errors.New("pushdevice: no identity is known for the access token"))
	}
	p, err := h.entityPath(identity)
	if err != nil {
		return provider.DeviceFactor{}, err
	}
	f := url.Values{"FactorType": {"push"}, "Binding.PublicKey": {req.PublicKey}, "Binding.Alg": {req.Alg}}
	// Optional fields left empty are left out, not sent empty: the factor
	// then takes its name from the access token's FactorFriendlyName.
	for k, v := range map[string]string{
		"FriendlyName": req.FriendlyName, "Config.SdkVersion": req.SDKVersion, "Config.AppId": req.AppID,
		"Config.NotificationPlatform": string(req.Platform), "Config.NotificationToken": req.NotificationToken,
	} {
		if v != "" {
			f.Set(k, v)
		}
	}
	if req.Metadata != nil {
		b, _ := json.Marshal(req.Metadata)
		f.Set("Metadata", string(b))
	}
	data, _, err := h.call(ctx, http.MethodPost, p+"/Factors", accessToken, f)
	if err != nil {
		return provider.DeviceFactor{}, err
	}
	raw, fa, err := decodeFactor(data)
	if err != nil {
		return provider.DeviceFactor{}, err
	}
	if raw.Config.CredentialSID == "" {
		return provider.DeviceFactor{}, errors.Join(provider.ErrOutcomeUnknown, errors.New("pushdevice: the new factor has no credential_sid"))
	}
	return provider.DeviceFactor{Factor: fa, AccountID: raw.AccountSID, CredentialID: raw.Config.CredentialSID}, nil
}

// VerifyDeviceFactor verifies the factor, with POST
// …/Factors/{Sid} and AuthPayload.
func (h *HTTP) VerifyDeviceFactor(ctx context.Context, auth, identity, factorID, authPayload string) (provider.Factor, error) {
	p, err := h.idPath(identity, "Factors", factorID, "YF")
	if err != nil {
		return provider.Factor{}, err
	}
	data, _, err := h.call(ctx, http.MethodPost, p, auth, url.Values{"AuthPayload": {authPayload}})
	if err != nil {
		return provider.Factor{}, err
	}
	_, fa, err := decodeFactor(data)
	return fa, err
}

// UpdateDeviceFactor changes the factor's notification configuration,
// with POST …/Factors/{Sid} and the form fields the SDKs send when the
// token rotates: Config.NotificationToken, Config.SdkVersion,
// Config.NotificationPlatform and FriendlyName.
func (h *HTTP) UpdateDeviceFactor(ctx context.Context, auth, identity, factorID string, req provider.DeviceFactorUpdate) (provider.Factor, error) {
	p, err := h.idPath(identity, "Factors", factorID, "YF")
	if err != nil {
		return provider.Factor{}, err
	}
	f := url.Values{"Config.NotificationPlatform": {string(req.Platform)}}
	for k, v := range map[string]string{"Config.NotificationToken": req.NotificationToken, "Config.SdkVersion": req.SDKVersion, "FriendlyName": req.FriendlyName} {
		if v != "" {
			f.Set(k, v)
		}
	}
	data, _, err := h.call(ctx, http.MethodPost, p, auth, f)
	if err != nil {
		return provider.Factor{}, err
	}
	_, fa, err := decodeFactor(data)
	return fa, err
}

// challengeJSON is a challenge as the device endpoints answer it.
type challengeJSON struct {
	SID            string    `json:"sid"`
	Identity       string    `json:"identity"`
	FactorSID      string    `json:"factor_sid"`
	Status         string    `json:"status"`
	DateCreated    time.Time `json:"date_created"`
	DateUpdated    time.Time `json:"date_updated"`
	DateResponded  time.Time `json:"date_responded"`
	ExpirationDate time.Time `json:"expiration_date"`
	Details        *struct {
		Message string `json:"message"`
		Fields  []struct {
			Label string `json:"label"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"details"`
	HiddenDetails map[string]string `json:"hidden_details"`
}

func decodeChallenge(data []byte) (provider.Challenge, error) {
	var c challengeJSON
	if err := json.Unmarshal(data, &c); err != nil || !wire.ValidSID(c.SID, "YC") {
		return provider.Challenge{}, errors.Join(provider.ErrOutcomeUnknown, errors.New("pushdevice: the answer is not a challenge"))
	}
	out := provider.Challenge{
		ID: c.SID, Identity: c.Identity, FactorID: c.FactorSID, Status: provider.ChallengeStatus(c.Status),
		CreatedAt: c.DateCreated, UpdatedAt: c.DateUpdated, RespondedAt: c.DateResponded, ExpiresAt: c.ExpirationDate,
	}
	if c.Details != nil {
		d := &provider.PushDetails{Message: c.Details.Message, Hidden: c.HiddenDetails}
		for _, f := range c.Details.Fields {
			d.Fields = append(d.Fields, provider.PushField{Label: f.Label, Value: f.Value})
		}
		out.Push = d
	}
	return out, nil
}

// deviceChallenge builds a DeviceChallenge of a challenge's JSON and the
// signature fields the server named.
func deviceChallenge(data []byte, fields string) (provider.DeviceChallenge, error) {
	c, err := decodeChallenge(data)
	if err != nil {
		return provider.DeviceChallenge{}, err
	}
	dc := provider.DeviceChallenge{Challenge: c, JSON: append([]byte(nil), data...)}
	if fields != "" && c.Status == provider.ChallengePending {
		for _, f := range strings.Split(fields, ",") {
			if f = strings.TrimSpace(f); f != "" {
				dc.SignatureFields = append(dc.SignatureFields, f)
			}
		}
	}
	return dc, nil
}

// FetchDeviceChallenge fetches a challenge, with GET …/Challenges/{Sid};
// the Twilio-Verify-Signature-Fields header gives its SignatureFields.
func (h *HTTP) FetchDeviceChallenge(ctx context.Context, auth, identity, challengeID string) (provider.DeviceChallenge, error) {
	p, err := h.idPath(identity, "Challenges", challengeID, "YC")
	if err != nil {
		return provider.DeviceChallenge{}, err
	}
	data, hdr, err := h.call(ctx, http.MethodGet, p, auth, nil)
	if err != nil {
		return provider.DeviceChallenge{}, err
	}
	return deviceChallenge(data, hdr.Get("Twilio-Verify-Signature-Fields"))
}

// ListDeviceChallenges lists the factor's challenges, with GET
// …/Challenges?FactorSid=…&Status=…, following the pages. Listed
// challenges name no signature fields: answering fetches the challenge
// first, as the SDKs do.
func (h *HTTP) ListDeviceChallenges(ctx context.Context, auth, identity, factorID string, status provider.ChallengeStatus) ([]provider.DeviceChallenge, error) {
	p, err := h.entityPath(identity)
	if err != nil {
		return nil, err
	}
	p += "/Challenges"
	q := url.Values{"FactorSid": {factorID}}
	if status != "" {
		q.Set("Status", string(status))
	}
	out := []provider.DeviceChallenge{}
	for range 1000 {
		data, _, err := h.call(ctx, http.MethodGet, p, auth, q)
		if err != nil {
			return nil, err
		}
		var page struct {
			Challenges []json.RawMessage `json:"challenges"`
			Meta       struct {
				NextPageURL string `json:"next_page_url"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, errors.Join(provider.ErrUnavailable, errors.New("pushdevice: the answer is not a page of challenges"))
		}
		for _, raw := range page.Challenges {
			dc, err := deviceChallenge(raw, "")
			if err != nil {
				return nil, err
			}
			out = append(out, dc)
		}
		if page.Meta.NextPageURL == "" {
			return out, nil
		}
		next, err := url.Parse(page.Meta.NextPageURL)
		if err != nil || next.Path != p {
			return nil, errors.Join(provider.ErrUnavailable, errors.New("pushdevice: next_page_url is not a page of the same list"))
		}
		q = next.Query()
	}
	return nil, errors.Join(provider.ErrUnavailable, errors.New("pushdevice: too many pages"))
}

// AnswerDeviceChallenge answers a challenge, with POST …/Challenges/{Sid}
// and AuthPayload.
func (h *HTTP) AnswerDeviceChallenge(ctx context.Context, auth, identity, challengeID, authPayload string) (provider.Challenge, error) {
	p, err := h.idPath(identity, "Challenges", challengeID, "YC")
	if err != nil {
		return provider.Challenge{}, err
	}
	data, _, err := h.call(ctx, http.MethodPost, p, auth, url.Values{"AuthPayload": {authPayload}})
	if err != nil {
		return provider.Challenge{}, err
	}
	return decodeChallenge(data)
}

// DeleteDeviceFactor deletes the factor, with DELETE …/Factors/{Sid}.
func (h *HTTP) DeleteDeviceFactor(ctx context.Context, auth, identity, factorID string) error {
	p, err := h.idPath(identity, "Factors", factorID, "YF")
	if err != nil {
		return err
	}
	_, _, err = h.call(ctx, http.MethodDelete, p, auth, nil)
	return err
}

var _ provider.PushDeviceAPI = (*HTTP)(nil)
