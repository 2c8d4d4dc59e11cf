package pushnotify_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/verifykit/verifykit/fake"
)

// clock is the clock the notifiers and the servers share.
type clock = fake.Clock

func newClock() *clock { return fake.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// serviceKey returns one RSA key for all the tests (making one is slow).
func serviceKey(t testing.TB) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

const (
	testProject = "demo-project-1"
	testEmail   = "pusher@demo-project-1.iam.gserviceaccount.com"
	testKeyID   = "0123456789abcdef"
)

// serviceAccountJSON returns a service account's JSON key file whose
// token_uri is tokenURI.
func serviceAccountJSON(t testing.TB, tokenURI string) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(serviceKey(t))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     testProject,
		"private_key_id": testKeyID,
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   testEmail,
		"client_id":      "1234567890",
		"token_uri":      tokenURI,
	})
	return b
}

// fcmServer plays Google's token endpoint (/token) and FCM (/v1/...): it
// checks every request's wire format and answers what reply says.
type fcmServer struct {
	t     *testing.T
	clock *clock
	srv   *httptest.Server

	mu      sync.Mutex
	issued  []string         // access tokens handed out
	sends   []map[string]any // bodies of accepted sends
	tokens  int              // token requests
	posts   int              // send requests
	reply   func(n int) (status int, header http.Header, body string)
	tokenRe func(n int) (status int, body string)
}

func newFCMServer(t *testing.T, c *clock) *fcmServer {
	f := &fcmServer{t: t, clock: c}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", f.token)
	mux.HandleFunc("/v1/projects/", f.send)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fcmServer) fail(w http.ResponseWriter, format string, args ...any) {
	f.t.Errorf("fcm server: "+format, args...)
	http.Error(w, "test server: bad request", http.StatusTeapot)
}

func (f *fcmServer) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokens++
	n := f.tokens
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		f.fail(w, "token request %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || len(form) != 2 {
		f.fail(w, "token request form %v", form)
		return
	}
	now := f.clock.Now()
	tok, err := jwt.Parse(form.Get("assertion"), func(*jwt.Token) (any, error) { return &serviceKey(f.t).PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		f.fail(w, "assertion: %v", err)
		return
	}
	claims := tok.Claims.(jwt.MapClaims)
	want := map[string]any{
		"iss": testEmail, "scope": "https://www.googleapis.com/auth/firebase.messaging",
		"aud": f.srv.URL + "/token", "iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix()),
	}
	if d := cmp.Diff(want, map[string]any(claims)); d != "" {
		f.fail(w, "assertion claims (-want +got):\n%s", d)
		return
	}
	if tok.Header["kid"] != testKeyID || tok.Header["typ"] != "JWT" {
		f.fail(w, "assertion header %v", tok.Header)
		return
	}
	status, answer := http.StatusOK, ""
	if f.tokenRe != nil {
		status, answer = f.tokenRe(n)
	}
	if status == http.StatusOK && answer == "" {
		access := fmt.Sprintf("ya29.access-%d-secret", n)
		f.mu.Lock()
		f.issued = append(f.issued, access)
		f.mu.Unlock()
		answer = `{"access_token":"` + access + `","expires_in":3599,"token_type":"Bearer"}`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *fcmServer) send(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.posts++
	n := f.posts
	last := ""
	if len(f.issued) > 0 {
		last = f.issued[len(f.issued)-1]
	}
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/projects/"+testProject+"/messages:send" {
		f.fail(w, "send %s %s", r.Method, r.URL.Path)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.fail(w, "send Content-Type %q", ct)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+last {
		f.fail(w, "send Authorization is not the last access token issued")
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.fail(w, "send body: %v", err)
		return
	}
	status, header, answer := http.StatusOK, http.Header{}, ""
	if f.reply != nil {
		status, header, answer = f.reply(n)
	}
	if status == http.StatusOK {
		f.mu.Lock()
		f.sends = append(f.sends, body)
		f.mu.Unlock()
		answer = `{"name":"projects/` + testProject + `/messages/0:1500415314455276%31bd1c9631bd1c96"}`
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *fcmServer) counts() (tokens, posts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens, f.posts
}

// apnsKey returns a fresh .p8 key and its public half.
func apnsKey(t testing.TB) ([]byte, *ecdsa.PublicKey) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), &k.PublicKey
}

const (
	apnsKeyID = "ABC123DEFG"
	apnsTeam  = "DEF123GHIJ"
	apnsTopic = "com.example.bank"
	// devToken is a device token as iOS gives it, in hex.
	devToken = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"
)

// apnsServer plays APNs over HTTP/2 with TLS and checks every request.
type apnsServer struct {
	t     *testing.T
	clock *clock
	pub   *ecdsa.PublicKey
	srv   *httptest.Server

	mu      sync.Mutex
	posts   int
	jwts    []string // provider tokens seen, in order
	headers []http.Header
	bodies  []map[string]any
	reply   func(n int) (status int, header http.Header, body string)
}

func newAPNsServer(t *testing.T, c *clock, pub *ecdsa.PublicKey) *apnsServer {
	a := &apnsServer{t: t, clock: c, pub: pub}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.handle))
	a.srv.EnableHTTP2 = true
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *apnsServer) handle(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.posts++
	n := a.posts
	a.mu.Unlock()
	fail := func(format string, args ...any) {
		a.t.Errorf("apns server: "+format, args...)
		w.WriteHeader(http.StatusTeapot)
	}
	if r.ProtoMajor != 2 {
		fail("request over %s, want HTTP/2", r.Proto)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/3/device/"+devToken {
		fail("%s %s", r.Method, r.URL.Path)
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "bearer ") {
		fail("Authorization is not a bearer token")
		return
	}
	now := a.clock.Now()
	tok, err := jwt.Parse(auth[len("bearer "):], func(*jwt.Token) (any, error) { return a.pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithIssuedAt(), jwt.WithIssuer(apnsTeam))
	if err != nil {
		fail("provider token: %v", err)
		return
	}
	iat, _ := tok.Claims.GetIssuedAt()
	if age := now.Sub(iat.Time); age >= time.Hour || len(tok.Claims.(jwt.MapClaims)) != 2 {
		fail("provider token is %v old, claims %v", age, tok.Claims)
		return
	}
	if tok.Header["kid"] != apnsKeyID {
		fail("provider token header %v", tok.Header)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fail("body: %v", err)
		return
	}
	a.mu.Lock()
	a.jwts = append(a.jwts, auth[len("bearer "):])
	a.headers = append(a.headers, r.Header.Clone())
	a.bodies = append(a.bodies, body)
	a.mu.Unlock()
	status, header, answer := http.StatusOK, http.Header{}, ""
	if a.reply != nil {
		status, header, answer = a.reply(n)
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Apns-Id", "EC1BF194-B3B2-424A-89A9-5A918A6E8B7D")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}
