module github.com/verifykit/verifykit/store/pgstore/storebench

go 1.25.0

require (
	github.com/jackc/pgx/v5 v5.13.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/verifykit/verifykit v0.0.0
	github.com/verifykit/verifykit/store/pgstore v0.0.0
	github.com/verifykit/verifykit/store/redisstore v0.0.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace (
	github.com/verifykit/verifykit => ../../..
	github.com/verifykit/verifykit/store/pgstore => ..
	github.com/verifykit/verifykit/store/redisstore => ../../redisstore
)
