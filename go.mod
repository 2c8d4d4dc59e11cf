module github.com/verifykit/verifykit

go 1.25

require (
	github.com/google/go-cmp v0.7.0
	github.com/nyaruka/phonenumbers/v2 v2.0.8
)

require google.golang.org/protobuf v1.36.11 // indirect
