// Package storebench compares the PostgreSQL and Redis stores under the
// self-hosted provider, each beside the floor of its own client, in one
// run on one machine: round trips per step of a verification's life, and
// Start+Check pairs a second with 1 and 16 goroutines. It is a module of
// its own so that neither store's module depends on the other's client.
// See docs/performance.md for the commands and the figures.
package storebench
