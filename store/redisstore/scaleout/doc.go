// Package scaleout holds the test that runs several replicas of the
// self-hosted provider, as separate processes, over one Redis.
package scaleout
