package nilness

import (
	"testing"
	"unsafe"
)

type s struct{}

func TestIs(t *testing.T) {
	t.Parallel()
	var (
		p  *s
		m  map[int]int
		sl []int
		ch chan int
		f  func()
		up unsafe.Pointer
	)
	for name, v := range map[string]any{"nil": nil, "pointer": p, "map": m, "slice": sl, "chan": ch, "func": f, "unsafe pointer": up} {
		if !Is(v) {
			t.Errorf("Is(nil %s) = false", name)
		}
	}
	for name, v := range map[string]any{"pointer": &s{}, "struct": s{}, "int": 0, "map": map[int]int{}, "slice": []int{}, "func": func() {}} {
		if Is(v) {
			t.Errorf("Is(%s) = true", name)
		}
	}
}
