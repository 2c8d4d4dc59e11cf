module github.com/verifykit/verifykit

go 1.25

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/google/go-cmp v0.7.0
	github.com/hashicorp/go-retryablehttp v0.7.8
	github.com/nyaruka/phonenumbers/v2 v2.0.8
	github.com/pquerna/otp v1.5.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
