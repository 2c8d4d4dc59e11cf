package twilio

import (
	"maps"
	"net/url"
	"slices"
	"testing"
)

// TestFormBodyMatchesEncode checks formBody against url.Values.Encode for
// the same pairs, added in key order.
func TestFormBodyMatchesEncode(t *testing.T) {
	t.Parallel()
	tests := [][][2]string{
		{{"To", "+14155552671"}, {"Channel", "sms"}},
		{{"Code", "123456"}, {"To", "user+tag@example.com"}},
		{{"CustomFriendlyName", "Ünïcode & co = 100% ~ok_-."}, {"Locale", "pt-BR"}},
		{{"Tags", `{"reference":"a b\r\n\x00\xff"}`}},
		{{"Empty", ""}, {"To", "x"}},
		{},
	}
	for _, pairs := range tests {
		assertForm(t, pairs)
	}
}

func assertForm(t *testing.T, pairs [][2]string) {
	t.Helper()
	want := url.Values{}
	var got formBody
	for _, p := range pairs {
		if p[1] != "" {
			want.Set(p[0], p[1])
		}
		got.add(p[0], p[1])
	}
	// Encode sorts by key; add in that order to compare.
	var sorted formBody
	for _, k := range sortedKeys(want) {
		sorted.add(k, want.Get(k))
	}
	if string(sorted) != want.Encode() {
		t.Errorf("formBody(%q) = %q, want %q", pairs, sorted, want.Encode())
	}
	if parsed, err := url.ParseQuery(string(got)); err != nil || parsed.Encode() != want.Encode() {
		t.Errorf("formBody(%q) parses as %v (%v), want %v", pairs, parsed, err, want)
	}
}

func sortedKeys(v url.Values) []string { return slices.Sorted(maps.Keys(v)) }

// FuzzFormBody checks formBody against url.Values.Encode for any pair of
// values.
func FuzzFormBody(f *testing.F) {
	f.Add("+14155552671", "123456")
	f.Add("a b&c=d", "%zz\x00\xff")
	f.Fuzz(func(t *testing.T, a, b string) {
		assertForm(t, [][2]string{{"A", a}, {"B", b}})
	})
}
