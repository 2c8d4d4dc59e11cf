package twiliotest

import (
	"encoding/json"
	"strings"

	"github.com/verifykit/verifykit/internal/wire"
	"github.com/verifykit/verifykit/provider"
)

// locales are the Locale values Twilio Verify documents on its supported
// languages page. Twilio answers any other with a 404.
var locales = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Fields(`af ar ca zh zh-CN zh-HK hr cs da nl en en-GB et fi fr de el he hi hu id it
		ja kn ko lt ms mr nb pl pt pt-BR ro ru sk es sv tl te th tr uk vi`) {
		m[strings.ToLower(l)] = true
	}
	return m
}()

// knownLocale reports whether Twilio Verify supports the locale l (case
// does not matter).
func knownLocale(l string) bool { return locales[strings.ToLower(l)] }

// checkChannelConfiguration checks the ChannelConfiguration of a start
// over channel ch to the target to, and returns what is wrong with it, or
// "". It must be a JSON object, is taken only by the email channel (or
// auto to an e-mail address), and its from, when given, must be an e-mail
// address; from_name and template_id are strings and substitutions an
// object. Other keys are accepted and ignored.
func checkChannelConfiguration(raw string, ch provider.Channel, to string) string {
	if ch != provider.ChannelEmail && (ch != provider.ChannelAuto || !wire.IsEmail(to)) {
		return "only the email channel takes a channel configuration"
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil || cfg == nil {
		return "not a JSON object"
	}
	str := func(key string) (string, bool, bool) { // value, present, well-typed
		v, ok := cfg[key]
		if !ok {
			return "", false, true
		}
		var s string
		err := json.Unmarshal(v, &s)
		return s, true, err == nil
	}
	if from, present, ok := str("from"); !ok || present && !wire.IsEmail(from) {
		return "from is not an e-mail address"
	}
	for _, key := range []string{"from_name", "template_id"} {
		if _, _, ok := str(key); !ok {
			return key + " is not a string"
		}
	}
	if v, ok := cfg["substitutions"]; ok {
		var m map[string]any
		if json.Unmarshal(v, &m) != nil || m == nil {
			return "substitutions is not an object"
		}
	}
	return ""
}
