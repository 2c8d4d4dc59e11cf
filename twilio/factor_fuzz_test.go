package twilio_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/verifykit/verifykit/twilio"
)

// FuzzDecodeFactor decodes arbitrary JSON as Twilio's Factor, Entity and
// Challenge resources and prints them: nothing panics, and printing never
// shows a binding's secret.
func FuzzDecodeFactor(f *testing.F) {
	f.Add(`{"sid":"YF0123456789abcdef0123456789abcdef","status":"verified","factor_type":"totp","config":{"alg":"sha1","skew":1,"code_length":6,"time_step":30},"binding":{"secret":"SECRETSECRETSECRET"}}`)
	f.Add(`{"sid":"YC0123456789abcdef0123456789abcdef","status":"approved","details":{"message":"m","fields":[{"label":"a","value":"b"}]},"hidden_details":{"ip":"x"},"date_responded":null}`)
	f.Add(`{"config":{"time_step":-9223372036854775808,"code_length":1e400},"metadata":[1]}`)
	f.Add(`{"identity":"\u0000\u00ff","links":{"factors":7}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var fa twilio.Factor
		if json.Unmarshal([]byte(doc), &fa) == nil {
			s := fmt.Sprintf("%v %+v %#v %s", &fa, &fa, &fa, &fa)
			if strings.Contains(doc, "SECRETSECRETSECRET") && strings.Contains(s, "SECRETSECRETSECRET") {
				t.Fatal("printing a factor shows its binding's secret")
			}
		}
		var ch twilio.Challenge
		if json.Unmarshal([]byte(doc), &ch) == nil {
			_ = fmt.Sprintf("%v %#v", &ch, &ch)
		}
		var en twilio.Entity
		if json.Unmarshal([]byte(doc), &en) == nil {
			_ = fmt.Sprintf("%v %#v", &en, &en)
		}
	})
}
