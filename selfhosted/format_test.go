package selfhosted_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
)

// TestNoVerbPrintsASecret formats every value that holds a secret (the
// application key, a message's code, the gateways' credentials, the SMTP
// password) with every verb: fmt prints a struct's fields for verbs like
// %d even when it has String and GoString methods.
func TestNoVerbPrintsASecret(t *testing.T) {
	t.Parallel()
	const (
		keySecret = "KEYSECRET-KEYSECRET-KEYSECRET-XX"
		code      = "123456"
		number    = "+14155552671"
		password  = "SMTPPASSWORD"
		access    = "MBACCESSKEY"
		token     = "GATEWAYTOKEN"
	)
	key := selfhosted.Key{ID: "k1", Secret: []byte(keySecret)}
	smtp, err := selfhosted.NewSMTP("127.0.0.1:587", "user", password, "from@example.com")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := selfhosted.NewMessageBird(access, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	ga, err := selfhosted.NewGatewayAPI(token, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"Key":          key,
		"*Key":         &key,
		"Message":      selfhosted.Message{To: number, Channel: provider.ChannelSMS, Code: code},
		"*SMTP":        smtp,
		"*MessageBird": mb,
		"*GatewayAPI":  ga,
	}
	secrets := []string{keySecret, strings.Trim(fmt.Sprint([]byte(keySecret)[:6]), "[]"), fmt.Sprintf("%x", keySecret[:8]), code, number, password, access, token}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%o", "%T %v", "%[1]d"} {
			got := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(got, s) || strings.Contains(strings.ToUpper(got), strings.ToUpper(s)) {
					t.Errorf("%s with %s prints a secret: %s", name, verb, got)
				}
			}
		}
	}
}
