package selfhosted_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/selfhosted"
)

// A gateway sender with texts of the application's own: {app} and {code}
// are filled in, and a locale without a text of its own falls back to "en".
func ExampleWithTemplates() {
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sms struct{ Message string }
		_ = json.NewDecoder(r.Body).Decode(&sms)
		fmt.Println(sms.Message)
		_, _ = w.Write([]byte(`{"ids":[1]}`))
	}))
	defer gateway.Close()

	s, err := selfhosted.NewGatewayAPI("token", "Acme", selfhosted.WithGatewayURL(gateway.URL),
		selfhosted.WithTemplates(selfhosted.Templates{"en": "{code} is your {app} code", "fr": "{code} est votre code {app}"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, locale := range []string{"fr-CA", "de"} {
		m := selfhosted.Message{To: "+4512345678", Channel: provider.ChannelSMS, Code: "123456", Locale: locale, AppName: "Acme"}
		if err := s.Send(context.Background(), m); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// 123456 est votre code Acme
	// 123456 is your Acme code
}
