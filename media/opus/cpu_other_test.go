//go:build !unix

package opus

import (
	"testing"
	"time"
)

// cpuTime is not measured on this platform.
func cpuTime(*testing.B) time.Duration { return 0 }
