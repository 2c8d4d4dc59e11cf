package selfhosted

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/redact"
	"github.com/verifykit/verifykit/provider"
)

// SendError is the error of a Sender that talks to a gateway: it matches
// its Kind (a provider sentinel) with errors.Is and carries what the
// gateway said. It never contains a credential or the code.
type SendError struct {
	// Sender names the gateway, such as "messagebird".
	Sender string
	// Kind is the sentinel the failure matches: provider.ErrUnavailable,
	// ErrUndeliverable, ErrUnauthorized, ErrRateLimited or ErrInvalidRequest
	// when the message was certainly not delivered, provider.ErrOutcomeUnknown
	// when it may have been.
	Kind error
	// Status is the HTTP status (or SMTP reply code), 0 when none came.
	Status int
	// Code and Message are the gateway's error code and text, if any.
	Code, Message string
	// To is the masked target.
	To string
	// Wait is how long the gateway asked to wait, if it said.
	Wait time.Duration
	// Err is the transport error, if any.
	Err error
}

// Error describes the failure.
func (e *SendError) Error() string {
	var b strings.Builder
	b.WriteString(e.Sender + ": send to " + e.To + ": " + e.Kind.Error())
	if e.Status != 0 {
		b.WriteString(" (status " + strconv.Itoa(e.Status))
		if e.Code != "" {
			b.WriteString(", code " + e.Code)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the kind and the transport error.
func (e *SendError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// RetryAfter returns Wait, so that provider.RetryAfter(err) finds it (0 when
// the gateway named no wait).
func (e *SendError) RetryAfter() time.Duration { return e.Wait }

// HTTPOption configures a Sender that talks HTTP to a gateway.
type HTTPOption func(*httpSender) error

// WithGatewayURL replaces the gateway's base URL, for tests and proxies.
// It must be https, or http on a loopback host.
func WithGatewayURL(raw string) HTTPOption {
	return func(s *httpSender) error {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return errors.New("selfhosted: invalid gateway URL")
		}
		if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
			return errors.New("selfhosted: the gateway URL must be https (http only on a loopback host)")
		}
		s.base = strings.TrimRight(u.String(), "/")
		return nil
	}
}

// WithGatewayHTTPClient sends through a copy of c instead of a client with
// a 10 s timeout and an http.Transport of its own (a clone of
// http.DefaultTransport, so that closing DefaultTransport's idle
// connections elsewhere cannot cut a send).
func WithGatewayHTTPClient(c *http.Client) HTTPOption {
	return func(s *httpSender) error {
		if c == nil {
			return errors.New("selfhosted: nil HTTP client")
		}
		cp := *c
		s.hc = &cp
		return nil
	}
}

// WithGatewayRetries sets how many times a send is retried when the
// gateway provably did not get it (the connection failed, or it answered
// 503), waiting wait, then twice as long, between tries. The default is 2
// retries from 200 ms.
func WithGatewayRetries(n int, wait time.Duration) HTTPOption {
	return func(s *httpSender) error {
		if n < 0 || n > 10 || wait < 0 {
			return errors.New("selfhosted: WithGatewayRetries: want 0 to 10 retries and a wait of at least 0")
		}
		s.retries, s.wait = n, wait
		return nil
	}
}

// WithTemplates sets the message texts (see Templates). The default is
// DefaultTemplates.
func WithTemplates(t Templates) HTTPOption {
	return func(s *httpSender) error {
		if len(t) == 0 {
			return errors.New("selfhosted: empty templates")
		}
		s.templates = t
		return nil
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpSender is the HTTP layer the gateway senders share: one POST,
// retried only when the gateway provably did not get it, the answer read
// with a size limit, errors typed.
type httpSender struct {
	name      string
	base      string
	hc        *http.Client
	retries   int
	wait      time.Duration
	templates Templates
	secrets   []string // redacted from anything the gateway says
}

func newHTTPSender(name, base string, opts []HTTPOption) (*httpSender, error) {
	s := &httpSender{name: name, base: base, hc: &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}, retries: 2, wait: 200 * time.Millisecond, templates: DefaultTemplates}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("selfhosted: nil option")
		}
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// post sends body to path with the given headers and returns the status
// and the answer (at most 64 KiB), or a *SendError.
func (s *httpSender) post(ctx context.Context, m Message, path, contentType string, header http.Header, body []byte) (int, http.Header, []byte, error) {
	wait := s.wait
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, nil, s.fail(m, provider.ErrInvalidRequest, 0, nil, err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "verifykit-selfhosted")
		resp, err := s.hc.Do(req)
		var status int
		var answer []byte
		var rh http.Header
		if err == nil {
			status, rh = resp.StatusCode, resp.Header
			answer, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		notSent := err != nil && dialFailed(err) || status == http.StatusServiceUnavailable
		if notSent && try < s.retries && ctx.Err() == nil {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
			wait *= 2
			if ctx.Err() == nil {
				continue
			}
		}
		switch {
		case err != nil && dialFailed(err):
			return 0, nil, nil, s.fail(m, provider.ErrUnavailable, 0, nil, s.redactErr(err))
		case err != nil:
			return 0, nil, nil, s.fail(m, provider.ErrOutcomeUnknown, 0, nil, s.redactErr(err))
		}
		return status, rh, answer, nil
	}
}

// classify returns the sentinel for an HTTP status of a gateway that did
// not accept the message.
func classify(status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return provider.ErrUnauthorized
	case status == http.StatusTooManyRequests:
		return provider.ErrRateLimited
	case status == http.StatusPaymentRequired || status == http.StatusServiceUnavailable:
		return provider.ErrUnavailable
	case status >= 400 && status < 500:
		return provider.ErrUndeliverable
	}
	return provider.ErrOutcomeUnknown // 500, 502, 504 and the unexpected: it may have been sent
}

func (s *httpSender) fail(m Message, kind error, status int, _ http.Header, err error) *SendError {
	return &SendError{Sender: s.name, Kind: kind, Status: status, To: mask.Target(m.To), Err: err}
}

// redact removes the credentials and the code from a gateway's text,
// masks the target and anything else that looks like a phone number or an
// e-mail address, and bounds its length on a character boundary: the
// routine every package that quotes a server shares.
func (s *httpSender) redact(text string, m Message) string {
	if m.To != "" {
		text = strings.ReplaceAll(text, strings.TrimPrefix(m.To, "+"), mask.Target(m.To))
	}
	return redact.Sanitize(text, 200, append(s.secrets[:len(s.secrets):len(s.secrets)], m.Code)...)
}

// redactErr returns err's text without credentials (a URL in a transport
// error may carry them), through the same routine as a gateway's text.
func (s *httpSender) redactErr(err error) error {
	return &redactedError{text: redact.Sanitize(err.Error(), 512, s.secrets...), err: err}
}

type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// dialFailed reports whether err shows that the request never reached the
// gateway: the connection could not be made.
func dialFailed(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}

// retryAfter parses a Retry-After header in seconds.
func retryAfter(h http.Header) time.Duration {
	if n, err := strconv.Atoi(h.Get("Retry-After")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// msisdn returns an E.164 number without its '+', as gateways want it.
func msisdn(to string) (string, error) {
	if !provider.IsPhone(to) {
		return "", fmt.Errorf("%w: not a phone number", provider.ErrInvalidRequest)
	}
	return to[1:], nil
}
