package verifyotel_test

import (
	"testing"

	"go.opentelemetry.io/otel"
)

// setGlobal makes r's providers the global ones for the test.
func setGlobal(t *testing.T, r *recorders) {
	tp, mp := otel.GetTracerProvider(), otel.GetMeterProvider()
	otel.SetTracerProvider(r.tp)
	otel.SetMeterProvider(r.mp)
	t.Cleanup(func() {
		otel.SetTracerProvider(tp)
		otel.SetMeterProvider(mp)
	})
}
