package selfhosted_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
)

const smtpPassword = "smtp-SECRET-pw"

// smtpServer is a minimal in-process SMTP submission server: STARTTLS,
// AUTH PLAIN (only after TLS), MAIL, RCPT, DATA. It records what it got.
type smtpServer struct {
	l       net.Listener
	tlsConf *tls.Config
	roots   *x509.CertPool

	noSTARTTLS   bool
	rejectRcpt   string // recipient answered 550
	dropAfterDot bool   // close the connection instead of answering the final dot
	busy         bool   // answer 421 at the greeting
	implicit     bool   // TLS from the first byte (SMTPS)
	echoAuth     bool   // refuse AUTH quoting the credentials it got, as some servers log them

	mu       sync.Mutex
	commands []string
	data     string
	authOK   bool
}

func newSMTPServer(t *testing.T, setup func(*smtpServer)) *smtpServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{l: l, roots: roots, tlsConf: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}}
	if setup != nil {
		setup(s)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) log(cmd string) {
	s.mu.Lock()
	s.commands = append(s.commands, cmd)
	s.mu.Unlock()
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	secure := false
	if s.implicit {
		tc := tls.Server(conn, s.tlsConf)
		if tc.Handshake() != nil {
			return
		}
		conn, secure = tc, true
	}
	r := bufio.NewReader(conn)
	w := func(line string) { fmt.Fprintf(conn, "%s\r\n", line) }
	if s.busy {
		w("421 busy, try later")
		return
	}
	w("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		if verb == "AUTH" {
			s.log("AUTH")
		} else {
			s.log(line)
		}
		switch verb {
		case "EHLO", "HELO":
			if !secure && !s.noSTARTTLS {
				w("250-test")
				w("250 STARTTLS")
			} else {
				w("250-test")
				w("250 AUTH PLAIN")
			}
		case "STARTTLS":
			w("220 go ahead")
			tc := tls.Server(conn, s.tlsConf)
			if tc.Handshake() != nil {
				return
			}
			conn, r, secure = tc, bufio.NewReader(tc), true
			w = func(line string) { fmt.Fprintf(conn, "%s\r\n", line) }
		case "AUTH":
			if !secure {
				w("530 must issue STARTTLS first")
				continue
			}
			parts := strings.Fields(line)
			raw, _ := base64.StdEncoding.DecodeString(parts[len(parts)-1])
			if s.echoAuth {
				w("535 5.7.8 authentication failed for " + parts[len(parts)-1])
				continue
			}
			if string(raw) == "\x00mailer\x00"+smtpPassword {
				s.mu.Lock()
				s.authOK = true
				s.mu.Unlock()
				w("235 ok")
			} else {
				w("535 authentication failed")
			}
		case "MAIL":
			w("250 ok")
		case "RCPT":
			if s.rejectRcpt != "" && strings.Contains(line, s.rejectRcpt) {
				w("550 no such mailbox")
			} else {
				w("250 ok")
			}
		case "DATA":
			w("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.data = b.String()
			s.mu.Unlock()
			if s.dropAfterDot {
				return
			}
			w("250 queued")
		case "QUIT":
			w("221 bye")
			return
		default:
			w("502 not implemented")
		}
	}
}

var emailMsg = selfhosted.Message{To: "alice@example.com", Channel: provider.ChannelEmail, Code: "904411", Locale: "de", AppName: "Acme"}

func newSMTPSender(t *testing.T, s *smtpServer, password string) *selfhosted.SMTP {
	t.Helper()
	snd, err := selfhosted.NewSMTP(s.l.Addr().String(), "mailer", password, "no-reply@acme.example",
		selfhosted.WithSMTPTLSConfig(&tls.Config{RootCAs: s.roots}))
	if err != nil {
		t.Fatal(err)
	}
	return snd
}

func TestSMTPDelivers(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, nil)
	if err := newSMTPSender(t, srv, smtpPassword).Send(t.Context(), emailMsg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	want := []string{"EHLO localhost", "STARTTLS", "EHLO localhost", "AUTH", "MAIL FROM:<no-reply@acme.example> BODY=8BITMIME", "RCPT TO:<alice@example.com>", "DATA", "QUIT"}
	got := strings.Join(srv.commands, "|")
	// net/smtp adds BODY=8BITMIME only when offered; accept either form.
	got = strings.Replace(got, "MAIL FROM:<no-reply@acme.example>|", "MAIL FROM:<no-reply@acme.example> BODY=8BITMIME|", 1)
	if got != strings.Join(want, "|") {
		t.Errorf("conversation:\n got %s\nwant %s", got, strings.Join(want, "|"))
	}
	if !srv.authOK {
		t.Error("the server did not see the right credentials")
	}
	header, body, _ := strings.Cut(srv.data, "\r\n\r\n")
	for _, h := range []string{"From: no-reply@acme.example", "To: alice@example.com", "Subject: =?utf-8?q?Ihr_Acme-Best=C3=A4tigungscode?=", "Content-Transfer-Encoding: quoted-printable"} {
		if !strings.Contains(header+"\r\n", h+"\r\n") {
			t.Errorf("header lacks %q:\n%s", h, header)
		}
	}
	text, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if got, want := strings.TrimSpace(string(text)), "Ihr Acme-Bestätigungscode lautet: 904411"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

// TestSMTPTemplates checks that WithSMTPTemplates replaces the default
// subjects and bodies.
func TestSMTPTemplates(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, nil)
	snd, err := selfhosted.NewSMTP(srv.l.Addr().String(), "mailer", smtpPassword, "no-reply@acme.example",
		selfhosted.WithSMTPTLSConfig(&tls.Config{RootCAs: srv.roots}),
		selfhosted.WithSMTPTemplates(selfhosted.Templates{"en": "{app} sign-in"}, selfhosted.Templates{"de": "{code} ist Ihr Code"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Send(t.Context(), emailMsg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	header, body, _ := strings.Cut(srv.data, "\r\n\r\n")
	if !strings.Contains(header, "Subject: Acme sign-in\r\n") {
		t.Errorf("header lacks the template's subject:\n%s", header)
	}
	text, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if got, want := strings.TrimSpace(string(text)), "904411 ist Ihr Code"; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
	if _, err := selfhosted.NewSMTP("localhost:25", "u", "p", "a@b.example", selfhosted.WithSMTPTemplates(nil, selfhosted.DefaultTemplates)); err == nil {
		t.Error("WithSMTPTemplates with no subjects: no error")
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(*smtpServer)
		password string
		to       string
		want     error
	}{
		{"no STARTTLS", func(s *smtpServer) { s.noSTARTTLS = true }, smtpPassword, "", provider.ErrUnavailable},
		{"wrong password", nil, "wrong-" + smtpPassword, "", provider.ErrUnauthorized},
		{"mailbox refused", func(s *smtpServer) { s.rejectRcpt = "alice@" }, smtpPassword, "", provider.ErrUndeliverable},
		{"server busy", func(s *smtpServer) { s.busy = true }, smtpPassword, "", provider.ErrUnavailable},
		{"reply to the message lost", func(s *smtpServer) { s.dropAfterDot = true }, smtpPassword, "", provider.ErrOutcomeUnknown},
		{"refusal quoting the credentials", func(s *smtpServer) { s.echoAuth = true }, smtpPassword, "", provider.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newSMTPServer(t, tt.setup)
			err := newSMTPSender(t, srv, tt.password).Send(t.Context(), emailMsg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send: error = %v, want %v", err, tt.want)
			}
			var se *selfhosted.SendError
			if !errors.As(err, &se) {
				t.Fatalf("errors.As(*SendError) failed on %v", err)
			}
			plain := base64.StdEncoding.EncodeToString([]byte("\x00mailer\x00" + tt.password))
			for _, secret := range []string{smtpPassword, emailMsg.Code, plain} {
				if s := fmt.Sprintf("%v %+v", err, err); strings.Contains(s, secret) {
					t.Errorf("error %q reveals %q", s, secret)
				}
			}
			if tt.name == "no STARTTLS" {
				srv.mu.Lock()
				defer srv.mu.Unlock()
				for _, c := range srv.commands {
					if c == "AUTH" {
						t.Error("credentials were sent without TLS")
					}
				}
			}
		})
	}
	// Port 0: nothing can listen there, so the dial is refused. (A port
	// freed by closing a listener is not: another test can take it.)
	s, _ := selfhosted.NewSMTP("127.0.0.1:0", "mailer", smtpPassword, "no-reply@acme.example")
	if err := s.Send(t.Context(), emailMsg); !errors.Is(err, provider.ErrUnavailable) {
		t.Errorf("unreachable server: %v, want ErrUnavailable", err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(verb, s); strings.Contains(out, smtpPassword) {
			t.Errorf("Sprintf(%q) reveals the password: %s", verb, out)
		}
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, func(s *smtpServer) { s.implicit = true })
	snd, err := selfhosted.NewSMTP(srv.l.Addr().String(), "mailer", smtpPassword, "no-reply@acme.example",
		selfhosted.WithSMTPImplicitTLS(), selfhosted.WithSMTPTLSConfig(&tls.Config{RootCAs: srv.roots}))
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Send(t.Context(), emailMsg); err != nil {
		t.Fatalf("Send over implicit TLS: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if !srv.authOK || !strings.Contains(srv.data, "904411") {
		t.Errorf("the server did not get the authenticated message")
	}
	for _, c := range srv.commands {
		if c == "STARTTLS" {
			t.Error("STARTTLS sent on an implicit TLS connection")
		}
	}
}
