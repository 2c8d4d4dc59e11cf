package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/verifykit/verifykit/provider"
	"github.com/verifykit/verifykit/store"
)

func TestFailed(t *testing.T) {
	cause := errors.New("connection reset")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name        string
		ctx         context.Context
		nothingDone bool
		want        []error // every error the result must match
		notWant     []error
	}{
		{"nothing done", context.Background(), true, []error{provider.ErrUnavailable, cause}, []error{provider.ErrOutcomeUnknown, context.Canceled}},
		{"may have landed", context.Background(), false, []error{provider.ErrOutcomeUnknown, cause}, []error{provider.ErrUnavailable, context.Canceled}},
		{"canceled, nothing done", canceled, true, []error{provider.ErrUnavailable, cause, context.Canceled}, []error{provider.ErrOutcomeUnknown}},
		{"canceled, may have landed", canceled, false, []error{provider.ErrOutcomeUnknown, cause, context.Canceled}, []error{provider.ErrUnavailable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.Failed(tt.ctx, "cas", cause, tt.nothingDone)
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("Failed = %v; does not match %v", err, w)
				}
			}
			for _, w := range tt.notWant {
				if errors.Is(err, w) {
					t.Errorf("Failed = %v; matches %v", err, w)
				}
			}
			var se *store.Error
			if !errors.As(err, &se) || se.Op != "cas" {
				t.Errorf("Failed = %#v; want a *store.Error for cas", err)
			}
		})
	}
}
