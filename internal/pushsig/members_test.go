package pushsig

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// viaJSON is what encoding/json makes of b as a map of raw values, and
// whether it gives a non-nil map.
func viaJSON(b []byte) (map[string]string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m == nil {
		return nil, false
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out, true
}

// checkMembers fails unless members(b) and its text values, and split(b)
// when it accepts b, agree with encoding/json.
func checkMembers(t *testing.T, b []byte) {
	t.Helper()
	want, wantOK := viaJSON(b)
	if o, ok := split(b, nil); ok {
		checkObject(t, b, o, want, wantOK)
	}
	o, ok := members(b, nil)
	if ok != wantOK {
		t.Fatalf("members(%q) ok = %v, encoding/json %v", b, ok, wantOK)
	}
	if ok {
		checkObject(t, b, o, want, wantOK)
	}
}

func checkObject(t *testing.T, b []byte, o object, want map[string]string, wantOK bool) {
	t.Helper()
	if !wantOK {
		t.Fatalf("%q accepted, encoding/json refuses it", b)
	}
	got := map[string]string{}
	for _, m := range o {
		got[string(m.key)] = string(m.val)
	}
	if diff := cmp.Diff(want, got); diff != "" || len(o) != len(got) {
		t.Fatalf("members(%q) (-encoding/json +members):\n%s", b, diff)
	}
	for k, v := range want {
		var s string
		err := json.Unmarshal([]byte(v), &s)
		if got, ok := o.text(k); ok != (err == nil) || got != s {
			t.Fatalf("text(%q) of %q = %q, %v; encoding/json %q, %v", k, b, got, ok, s, err)
		}
	}
}

func TestMembersAgreeWithEncodingJSON(t *testing.T) {
	many := "{" + strings.Repeat(`"a":1,`, 40) + `"a":2}`
	distinct := `{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"ka":10,"kb":11,"kc":12,"kd":13,"ke":14,"kf":15,"kg":16}`
	for _, in := range []string{
		`{}`, ` { } `, `{"sid":"YC1","status":"approved"}`,
		"{\n\t\"a\" :\r [1, {\"b\": [\"]}\"]}] , \"c\":\"x\\\"}\" }\n",
		`{"a":1,"a":2}`,              // duplicates: the last wins
		`{"a":1,"b":2,"a":{"c":3}}`,  // a duplicate after another key
		`{"st\u0061tus":"approved"}`, // an escaped key
		`{"a\"b":1}`, `{"\\":1}`,     // a quote and a backslash in a key
		`{"é":1,"\ud83d\ude00":2}`, // non-ASCII keys
		"{\"\xff\":1}",             // invalid UTF-8 in a key, replaced
		`{"a":"\u00e9\n\ud800"}`,   // escapes in a value, kept raw
		"{\"a\":\"\xff\"}",         // invalid UTF-8 in a value, kept raw
		`{"a":123456789012345678901234567890e999}`, `{"a":-0.5E-3}`, `{"a":true,"b":false,"c":null}`,
		`{"a":"approved","b":"x"}`, `{"a":5}`, `{"a":[]}`, `{"a":{}}`, `{"a":[[[[]]]]}`,
		many, distinct,
		// Not objects, or not JSON.
		``, ` `, `null`, `[]`, `"x"`, `1`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `{'a':1}`,
		`{"a":1}x`, `{"a":1}{}`, `{"a":1} null`, `{"a":01}`, `{"a":1.}`, `{"a":+1}`, `{"a":NaN}`,
		`{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":"\u12"}`, `{"a":tru}`, `{"a":[1,]}`, "\xef\xbb\xbf{}",
		`{"a":"\u12g4"}`, `{"a":"\u00e`, `{"a":"\`, `{"a":"x}`, "{\"a\":\"\t\"}", `{"a":1e}`, `{"a":1e+}`,
		`{"a":-}`, `{"a":.5}`, `{"a":-01}`, `{"a":1.5.5}`, `{"a":[1 2]}`, `{"a":{"b"}}`, `{"a":{"b":1,}}`,
		`{"a":{1:2}}`, `{"a":nul}`, `{"a":truex}`, `{"a":[}`, `{"a":[1}`, `{"a":{]}`, `{"a" 1}`, `{"a":1 "b":2}`,
		"{} x", "{}\x00", `{"a":1}}`, `{"a":"b"]`, `{"a":tRUE}`, `{"a":nulL,"b":1}`, `{"a":fals}`,
		`{"a"x1}`, `{"a":1x"b":2}`, `{"a":[1x2]}`, `{"a":"\u00G0"}`, `{"a":"\uABCD\u0aF9"}`,
		`{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, // deeper than split follows
		`{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 69) + `}`,
	} {
		checkMembers(t, []byte(in))
	}
}

// The inputs that split handles itself, without encoding/json: the valid
// objects the protocol sends, whatever their values.
func TestSplitHandles(t *testing.T) {
	for _, in := range []string{
		challengeJSON, `{}`, " {\t}\r\n", `{"sid":"YC1","status":"approved"}`,
		`{"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00 <>&","b":"é\u2028"}`,
		`{"a":[1,-0,0.5,-12.25e+3,1E-2,5e9,true,false,null,"",[],{}],"b":{"c":{"d":[{"e":"f"}]}}}`,
		`{"a" : [ 1 , { "b" : null } ] , "c" : "d" }`,
		`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"ka":10,"kb":11,"kc":12,"kd":13,"ke":14,"kf":15}`,
	} {
		if _, ok := split([]byte(in), nil); !ok {
			t.Errorf("split(%q) left it to encoding/json", in)
		}
		checkMembers(t, []byte(in))
	}
	deep := `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`
	if _, ok := split([]byte(deep), nil); ok {
		t.Errorf("split followed nesting deeper than %d", maxDepth)
	}
}

// FuzzMembers: on any input, members and its text values agree with
// encoding/json, and split accepts nothing encoding/json refuses.
func FuzzMembers(f *testing.F) {
	f.Add(challengeJSON)
	f.Add(`{"a":1,"a":[{"b":"}"}],"\u0061":null}`)
	f.Fuzz(func(t *testing.T, s string) { checkMembers(t, []byte(s)) })
}
