// Package nilness tells whether an interface value is nil or holds a nil
// pointer, for constructors that must refuse a nil provider of any kind.
package nilness

import "reflect"

// Is reports whether v is nil or holds a nil pointer, map, slice, channel,
// func or unsafe pointer: a value whose methods may panic, such as the
// *selfhosted.Provider that selfhosted.New returns beside an error.
func Is(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return r.IsNil()
	}
	return false
}
