// Package emuclient is the HTTP client of the provider emulators' control
// endpoints (/_emulator/messages, /_emulator/faults, /_emulator/clock),
// written once for both: twilio/twiliotest/emuclient and
// vonage/vonagetest/emuclient are its faces, typed with their emulator's
// Message and Fault. It speaks the endpoints' wire format only, so it
// works against an emulator in another process.
//
// Imports: the emuclient faces → emuclient (standard library only).
package emuclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrNoMessage is the error of LastMessage and LastCode when the outbox
// holds no message to the target.
var ErrNoMessage = errors.New("emuclient: no message to this target")

// Error is a control endpoint's refusal: its status and, when the body
// says one, its message (control errors never carry codes).
type Error struct {
	Op      string // "messages", "fault", "clear faults", "advance"
	Status  int
	Message string
}

func (e *Error) Error() string {
	s := "emuclient: " + e.Op + ": HTTP " + fmt.Sprint(e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Client calls one emulator's control endpoints, typed with its Message
// (M) and Fault (F). Its zero value is not usable; make one with New.
type Client[M, F any] struct {
	base string
	hc   *http.Client
	auth func(*http.Request)
	// fields returns a message's target and code.
	fields func(M) (to, code string)
}

// Option configures New.
type Option func(*Config)

// Config is what the options set.
type Config struct {
	HTTP *http.Client
	Auth func(*http.Request)
}

// WithBasicAuth authenticates each request with user and password.
func WithBasicAuth(user, password string) Option {
	return func(c *Config) { c.Auth = func(r *http.Request) { r.SetBasicAuth(user, password) } }
}

// WithHTTPClient sends the requests with hc instead of a client with a
// 10-second timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Config) { c.HTTP = hc } }

// New returns a client of the emulator at base (such as
// http://127.0.0.1:8080). Without an authenticating option the requests
// carry no credentials, which only an emulator with open control endpoints
// accepts. fields returns a message's target and code.
func New[M, F any](base string, fields func(M) (to, code string), opts ...Option) (*Client[M, F], error) {
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	hc, auth := cfg.HTTP, cfg.Auth
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("emuclient: the base URL must be an http(s) URL without a query")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client[M, F]{base: strings.TrimSuffix(base, "/"), hc: hc, auth: auth, fields: fields}, nil
}

// do sends a control request and decodes a 2xx JSON answer into out.
func (c *Client[M, F]) do(ctx context.Context, op, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("emuclient: %s: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("emuclient: %s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != nil {
		c.auth(req)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("emuclient: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("emuclient: %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &Error{Op: op, Status: resp.StatusCode, Message: errorMessage(data)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("emuclient: %s: decoding the answer: %w", op, err)
		}
	}
	return nil
}

// errorMessage returns the message of an error body (Twilio's "message",
// Vonage's problem "detail" or "title"), at most 200 bytes.
func errorMessage(data []byte) string {
	var b struct{ Message, Detail, Title string }
	if json.Unmarshal(data, &b) != nil {
		return ""
	}
	msg := b.Message
	if msg == "" {
		msg = b.Detail
	}
	if msg == "" {
		msg = b.Title
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// Messages returns the outbox, oldest first: every message, or only those
// to to when it is not empty.
func (c *Client[M, F]) Messages(ctx context.Context, to string) ([]M, error) {
	path := "/_emulator/messages"
	if to != "" {
		path += "?" + url.Values{"to": {to}}.Encode()
	}
	var out []M
	if err := c.do(ctx, "messages", http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// LastMessage returns the newest message to to, or ErrNoMessage.
func (c *Client[M, F]) LastMessage(ctx context.Context, to string) (M, error) {
	var zero M
	msgs, err := c.Messages(ctx, to)
	if err != nil {
		return zero, err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if t, _ := c.fields(msgs[i]); t == to {
			return msgs[i], nil
		}
	}
	return zero, ErrNoMessage
}

// LastCode returns the code of the newest message to to, or ErrNoMessage;
// a message without a code (a codeless step) is an error.
func (c *Client[M, F]) LastCode(ctx context.Context, to string) (string, error) {
	m, err := c.LastMessage(ctx, to)
	if err != nil {
		return "", err
	}
	if _, code := c.fields(m); code != "" {
		return code, nil
	}
	return "", errors.New("emuclient: the newest message to this target has no code")
}

// InjectFault schedules the fault f, as the emulator's InjectFault does.
func (c *Client[M, F]) InjectFault(ctx context.Context, f F) error {
	return c.do(ctx, "fault", http.MethodPost, "/_emulator/faults", f, nil)
}

// ClearFaults removes every scheduled fault.
func (c *Client[M, F]) ClearFaults(ctx context.Context) error {
	return c.do(ctx, "clear faults", http.MethodDelete, "/_emulator/faults", nil, nil)
}

// Advance moves the emulator's clock forward by d and returns its new
// time.
func (c *Client[M, F]) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, errors.New("emuclient: advance: the clock only moves forward")
	}
	var out struct {
		Now time.Time `json:"now"`
	}
	err := c.do(ctx, "advance", http.MethodPost, "/_emulator/clock?"+url.Values{"advance": {d.String()}}.Encode(), nil, &out)
	return out.Now, err
}
