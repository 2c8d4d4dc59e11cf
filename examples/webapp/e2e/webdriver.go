// Package e2e tests examples/webapp in a real browser: headless Chromium,
// driven through chromedriver with the W3C WebDriver protocol, spoken with
// the standard library. It is a module of its own so that a browser test
// adds nothing to the library's go.mod.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// driver is a running chromedriver.
type driver struct {
	cmd  *exec.Cmd
	base string
	hc   *http.Client // a transport of its own, not http.DefaultTransport
}

// startDriver runs chromedriver on a free loopback port and waits until it
// is ready. chromedriver picks the port itself (--port=0) and prints it: a
// port found free beforehand could be taken by another process before
// chromedriver binds it.
func startDriver(ctx context.Context, path string) (*driver, error) {
	cmd := exec.Command(path, "--port=0", "--allowed-ips=127.0.0.1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	started := make(chan string, 1) // the port, or "" when it exited first
	go func() {
		sc := bufio.NewScanner(out)
		var port string
		for sc.Scan() {
			if m := startedRE.FindStringSubmatch(sc.Text()); m != nil && port == "" {
				port = m[1]
				started <- port
			}
		}
		if port == "" {
			started <- ""
		}
	}()
	d := &driver{cmd: cmd, hc: &http.Client{Transport: &http.Transport{}}}
	select {
	case port := <-started:
		if port == "" {
			_ = cmd.Wait()
			return nil, fmt.Errorf("chromedriver exited without saying its port")
		}
		d.base = "http://127.0.0.1:" + port
	case <-ctx.Done():
		d.stop()
		return nil, fmt.Errorf("chromedriver did not say its port: %w", ctx.Err())
	}
	for {
		var status struct {
			Value struct{ Ready bool } `json:"value"`
		}
		if err := d.do(ctx, "GET", "/status", nil, &status); err == nil && status.Value.Ready {
			return d, nil
		}
		select {
		case <-ctx.Done():
			d.stop()
			return nil, fmt.Errorf("chromedriver did not become ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startedRE matches the line where chromedriver names the port it listens
// on.
var startedRE = regexp.MustCompile(`started successfully on port (\d+)`)

func (d *driver) stop() {
	d.cmd.Process.Kill()
	d.cmd.Wait()
}

// do sends a WebDriver command and decodes its answer.
func (d *driver) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webdriver %s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// browser is one WebDriver session.
type browser struct {
	d   *driver
	ctx context.Context
	id  string
}

// newBrowser opens headless Chromium with a fresh profile and no
// background networking (this machine reaches nothing but loopback).
func (d *driver) newBrowser(ctx context.Context, chromium, profile string) (*browser, error) {
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args": []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--window-size=900,900", "--user-data-dir=" + profile},
		},
	}}}
	var out struct {
		Value struct {
			SessionID string `json:"sessionId"`
		} `json:"value"`
	}
	if err := d.do(ctx, "POST", "/session", caps, &out); err != nil {
		return nil, err
	}
	b := &browser{d: d, ctx: ctx, id: out.Value.SessionID}
	// Finding an element waits up to 5 s for it to appear (the page after
	// a click may still be loading).
	if err := b.cmd("POST", "/timeouts", map[string]int{"implicit": 5000, "pageLoad": 30000}, nil); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// waitText waits until the element css contains want (the page a click
// led to may still be loading, and the old page may have the same
// element), and returns the last text seen.
func (b *browser) waitText(css, want string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		got, err := b.text(css)
		if err == nil && strings.Contains(got, want) {
			return got, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return got, err
			}
			return got, fmt.Errorf("%s says %q, want %q", css, got, want)
		}
		select {
		case <-b.ctx.Done():
			return got, b.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (b *browser) close() { b.d.do(context.Background(), "DELETE", "/session/"+b.id, nil, nil) }

func (b *browser) cmd(method, path string, in, out any) error {
	return b.d.do(b.ctx, method, "/session/"+b.id+path, in, out)
}

func (b *browser) open(url string) error {
	return b.cmd("POST", "/url", map[string]string{"url": url}, nil)
}

// find returns the ID of the element the CSS selector names.
func (b *browser) find(css string) (string, error) {
	var out struct {
		Value map[string]string `json:"value"`
	}
	if err := b.cmd("POST", "/element", map[string]string{"using": "css selector", "value": css}, &out); err != nil {
		return "", err
	}
	for _, id := range out.Value { // the key is the W3C element identifier
		return id, nil
	}
	return "", fmt.Errorf("no element %s", css)
}

func (b *browser) typeInto(css, text string) error {
	id, err := b.find(css)
	if err != nil {
		return err
	}
	return b.cmd("POST", "/element/"+id+"/value", map[string]string{"text": text}, nil)
}

func (b *browser) click(css string) error {
	id, err := b.find(css)
	if err != nil {
		return err
	}
	return b.cmd("POST", "/element/"+id+"/click", map[string]any{}, nil)
}

func (b *browser) text(css string) (string, error) {
	id, err := b.find(css)
	if err != nil {
		return "", err
	}
	var out struct {
		Value string `json:"value"`
	}
	err = b.cmd("GET", "/element/"+id+"/text", nil, &out)
	return out.Value, err
}

func (b *browser) screenshot() ([]byte, error) {
	var out struct {
		Value string `json:"value"`
	}
	if err := b.cmd("GET", "/screenshot", nil, &out); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(out.Value)
}
