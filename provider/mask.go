package provider

import "github.com/verifykit/verifykit/internal/mask"

func maskTarget(s string) string { return mask.Target(s) }
