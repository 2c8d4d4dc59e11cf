package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/examples/internal/examplestest"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/vonage"
	"github.com/verifykit/verifykit/vonage/vonagetest"
)

// syncBuffer is the examples' shared concurrent-safe buffer.
type syncBuffer = examplestest.SyncBuffer

// TestRunServesAndStops runs the program, follows its printed
// instructions with the vonage client, and stops it.
func TestRunServesAndStops(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	srv := examplestest.Start(t, func(ctx context.Context, stdout, stderr io.Writer, ready chan<- string) int {
		return run(ctx, []string{"-addr", "127.0.0.1:0", "-code", "7777", "-private-key-out", keyFile}, stdout, stderr, ready)
	})
	base, out, errOut := srv.Base, srv.Out, srv.Err
	ctx := t.Context()
	for _, want := range []string{"VONAGE_BASE_URL=" + base, "VONAGE_APPLICATION_ID=" + vonagetest.DefaultApplicationID,
		"VONAGE_PRIVATE_KEY_PATH=" + keyFile, base + "/_emulator/"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v", fi, err)
	}
	env := map[string]string{vonage.EnvBaseURL: base, vonage.EnvApplicationID: vonagetest.DefaultApplicationID,
		vonage.EnvPrivateKeyPath: keyFile, vonage.EnvBrand: "verifykit"}
	c, err := vonage.NewFromEnvFunc(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Start(ctx, provider.StartRequest{To: "+447700900001", Channel: provider.ChannelSMS})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/_emulator/messages?to=447700900001", nil)
	req.SetBasicAuth(vonagetest.DefaultAPIKey, vonagetest.DefaultAPISecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []vonagetest.Message
	json.NewDecoder(resp.Body).Decode(&msgs)
	resp.Body.Close()
	if len(msgs) != 1 || msgs[0].Code != "7777" || msgs[0].RequestID != v.ID {
		t.Fatalf("outbox = %v", msgs)
	}
	if got, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: "7777"}); err != nil || !got.Approved() {
		t.Fatalf("check: %v, %v", got, err)
	}
	if code := srv.Stop(); code != 0 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}

// TestRefusesRemote checks the loopback guard.
func TestRefusesRemote(t *testing.T) {
	var out, errOut syncBuffer
	if code := run(context.Background(), []string{"-addr", "0.0.0.0:0"}, &out, &errOut, nil); code != 2 {
		t.Errorf("exit %d", code)
	}
}
