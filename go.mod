module github.com/verifykit/verifykit

go 1.25

require (
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/nyaruka/phonenumbers/v2 v2.0.8
)

require (
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
