package twilio_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/twilio"
	"github.com/verifykit/verifykit/twilio/twiliotest"
)

// TestEmulatorAttemptsSummaryByPrefix: the summary grouped by destination
// prefix counts each range's attempts and conversions, as the emulator
// records them.
func TestEmulatorAttemptsSummaryByPrefix(t *testing.T) {
	srv := twiliotest.NewServer()
	defer srv.Close()
	c := emulatorClient(t, srv)
	ctx := context.Background()
	send := func(to string, approve bool) {
		t.Helper()
		v, err := c.Start(ctx, provider.StartRequest{To: to, Channel: provider.ChannelSMS})
		if err != nil {
			t.Fatal(err)
		}
		if approve {
			code, _ := srv.LastCode(to)
			if _, err := c.Check(ctx, provider.CheckRequest{ID: v.ID, Code: code}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A healthy range (+1415) converts; a pumped one (+4477009) does not.
	send("+14155550101", true)
	send("+14155550102", true)
	send("+14155550103", false)
	for _, to := range []string{"+447700900101", "+447700900102", "+447700900103", "+447700900104"} {
		send(to, false)
	}
	got, err := c.AttemptsSummaryByPrefix(ctx, twilio.SummaryFilter{ServiceSID: c.ServiceSID()}, []string{"+1415", "+4477009", "+33"})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Prefix                   string
		Attempts, Converted      int
		ConversionRatePercentage string
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.Prefix, s.TotalAttempts, s.TotalConverted, s.ConversionRatePercentage})
	}
	want := []row{{"+1415", 3, 2, "66.666666667"}, {"+4477009", 4, 0, "0"}, {"+33", 0, 0, "0"}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("summary by prefix (-want +got):\n%s", diff)
	}
	if _, err := c.AttemptsSummaryByPrefix(ctx, twilio.SummaryFilter{}, []string{"1415"}); !errors.Is(err, provider.ErrInvalidRequest) {
		t.Errorf("a prefix without +: %v, want ErrInvalidRequest", err)
	}
}
