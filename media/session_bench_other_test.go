//go:build !unix

package media

import (
	"testing"
	"time"
)

// cpuTime is not measured on this platform.
func cpuTime(*testing.B) time.Duration { return 0 }
