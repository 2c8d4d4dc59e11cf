module github.com/verifykit/verifykit/examples/emulator/sdk-go

go 1.25

require (
	github.com/twilio/twilio-go v1.31.0
	github.com/verifykit/verifykit v0.0.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/golang/mock v1.6.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	github.com/nyaruka/phonenumbers/v2 v2.0.8 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/verifykit/verifykit => ../../..
