module github.com/verifykit/verifykit/examples/webapp/e2e

go 1.25

require github.com/verifykit/verifykit v0.0.0

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/nyaruka/phonenumbers/v2 v2.0.8 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace github.com/verifykit/verifykit => ../../..
