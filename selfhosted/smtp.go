package selfhosted

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/verifykit/verifykit/internal/mask"
	"github.com/verifykit/verifykit/internal/redact"
	"github.com/verifykit/verifykit/provider"
)

// SMTP sends codes by e-mail through an SMTP server (a submission port,
// usually 587): it always upgrades the connection with STARTTLS before it
// authenticates (PLAIN), and refuses a server that does not offer it; or,
// with WithSMTPImplicitTLS (port 465), it speaks TLS from the start.
//
// A message the server refused, or that never reached it, matches
// provider.ErrUnavailable (4xx, connection failures), ErrUndeliverable
// (5xx for the recipient or the message) or ErrUnauthorized (535); a
// message whose final reply was lost matches provider.ErrOutcomeUnknown.
// Nothing is retried.
type SMTP struct {
	addr, host string
	username   string
	password   string
	from       string
	tls        *tls.Config
	implicit   bool // TLS from the first byte (port 465) instead of STARTTLS
	subjects   Templates
	templates  Templates
}

// SMTPOption configures an SMTP sender.
type SMTPOption func(*SMTP) error

// WithSMTPTLSConfig sets the TLS configuration of STARTTLS (for a private
// CA, for example). Its ServerName defaults to the server's host.
func WithSMTPTLSConfig(c *tls.Config) SMTPOption {
	return func(s *SMTP) error {
		if c == nil {
			return errors.New("selfhosted: nil TLS config")
		}
		s.tls = c.Clone()
		return nil
	}
}

// WithSMTPImplicitTLS speaks TLS from the first byte (SMTPS, usually port
// 465) instead of upgrading with STARTTLS.
func WithSMTPImplicitTLS() SMTPOption {
	return func(s *SMTP) error {
		s.implicit = true
		return nil
	}
}

// WithSMTPTemplates sets the subjects and bodies (see Templates). The
// defaults are DefaultSubjects and DefaultTemplates.
func WithSMTPTemplates(subjects, bodies Templates) SMTPOption {
	return func(s *SMTP) error {
		if len(subjects) == 0 || len(bodies) == 0 {
			return errors.New("selfhosted: empty templates")
		}
		s.subjects, s.templates = subjects, bodies
		return nil
	}
}

// DefaultSubjects are the e-mail subjects by locale.
var DefaultSubjects = Templates{
	"en": "Your {app} verification code",
	"de": "Ihr {app}-Bestätigungscode",
	"es": "Tu código de verificación de {app}",
	"fr": "Votre code de vérification {app}",
	"pt": "O seu código de verificação do {app}",
}

// NewSMTP returns an SMTP sender for the server at addr (host:port) that
// authenticates with username and password and sends from the address
// from.
func NewSMTP(addr, username, password, from string, opts ...SMTPOption) (*SMTP, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return nil, errors.New("selfhosted: NewSMTP: addr must be host:port")
	}
	if username == "" || password == "" || !provider.IsEmail(from) {
		return nil, errors.New("selfhosted: NewSMTP needs a username, a password and a valid from address")
	}
	s := &SMTP{addr: addr, host: host, username: username, password: password, from: from,
		tls: &tls.Config{MinVersion: tls.VersionTLS12}, subjects: DefaultSubjects, templates: DefaultTemplates}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("selfhosted: nil option")
		}
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = host
	}
	return s, nil
}

// String describes the sender without its password.
func (s *SMTP) String() string {
	return "selfhosted.SMTP{Addr:" + s.addr + " Username:" + s.username + " Password:[redacted]}"
}

// GoString is like String.
func (s *SMTP) GoString() string { return s.String() }

// Format prints what String does for every verb, so no verb prints the
// password.
func (s *SMTP) Format(f fmt.State, verb rune) { formatString(f, verb, s.String()) }

func (s *SMTP) fail(m Message, kind error, err error) *SendError {
	e := &SendError{Sender: "smtp", Kind: kind, To: mask.Target(m.To)}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		e.Status, e.Message = tp.Code, s.redact(tp.Msg, m)
		if len(e.Message) > 200 {
			e.Message = e.Message[:200]
		}
		return e
	}
	if err != nil {
		e.Err = &redactedError{text: s.redact(err.Error(), m), err: err}
	}
	return e
}

// redact removes from text what a server may quote back: the password,
// the AUTH PLAIN credentials (base64 of "\x00username\x00password") and
// the code; it masks phone numbers and e-mail addresses and bounds the
// text on a character boundary (the routine every package that quotes a
// server shares).
func (s *SMTP) redact(text string, m Message) string {
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + s.username + "\x00" + s.password))
	return redact.Sanitize(text, 512, plain, strings.TrimRight(plain, "="), s.password, m.Code)
}

// refused returns the kind of an SMTP error reply, or kind for anything
// else (a broken connection).
func refused(err error, otherwise error) error {
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return otherwise
	}
	switch {
	case tp.Code == 535 || tp.Code == 534 || tp.Code == 530:
		return provider.ErrUnauthorized
	case tp.Code >= 500:
		return provider.ErrUndeliverable
	}
	return provider.ErrUnavailable
}

// Send sends m by e-mail, one connection per message. Without a deadline
// on ctx it gives the exchange 30 seconds. Every failure is a *SendError (see
// Sender for its kinds); a message on another channel than email, or to no
// e-mail address, matches provider.ErrInvalidRequest.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.Channel != provider.ChannelEmail || !provider.IsEmail(m.To) {
		return s.fail(m, provider.ErrInvalidRequest, errors.New("SMTP sends email to e-mail addresses"))
	}
	var conn net.Conn
	var err error
	if s.implicit {
		d := tls.Dialer{Config: s.tls}
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return s.fail(m, provider.ErrUnavailable, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return s.fail(m, refused(err, provider.ErrUnavailable), err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return s.fail(m, refused(err, provider.ErrUnavailable), err)
	}
	if !s.implicit {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return s.fail(m, provider.ErrUnavailable, errors.New("the server does not offer STARTTLS; refusing to send credentials in clear"))
		}
		if err := c.StartTLS(s.tls); err != nil {
			return s.fail(m, refused(err, provider.ErrUnavailable), err)
		}
	}
	if err := c.Auth(smtp.PlainAuth("", s.username, s.password, s.host)); err != nil {
		return s.fail(m, refused(err, provider.ErrUnavailable), err)
	}
	if err := c.Mail(s.from); err != nil {
		return s.fail(m, refused(err, provider.ErrUnavailable), err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return s.fail(m, refused(err, provider.ErrUnavailable), err)
	}
	w, err := c.Data()
	if err != nil {
		return s.fail(m, refused(err, provider.ErrUnavailable), err)
	}
	if _, err := w.Write(s.message(m)); err != nil {
		// The final dot was not sent: the server cannot have accepted it.
		return s.fail(m, provider.ErrUnavailable, err)
	}
	if err := w.Close(); err != nil {
		// The message went out; a lost reply leaves its fate unknown.
		return s.fail(m, refused(err, provider.ErrOutcomeUnknown), err)
	}
	_ = c.Quit() // accepted: a failure to say goodbye changes nothing
	return nil
}

// message returns the e-mail: headers and a quoted-printable text body.
func (s *SMTP) message(m Message) []byte {
	oneLine := strings.NewReplacer("\r", " ", "\n", " ")
	subject := oneLine.Replace(s.subjects.Render(m))
	var id [12]byte
	_, _ = rand.Read(id[:])
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", s.from)
	fmt.Fprintf(&b, "To: %s\r\n", m.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id[:]), s.host)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(s.templates.Render(m) + "\r\n"))
	_ = qp.Close()
	return []byte(b.String())
}
