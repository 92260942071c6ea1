package delivery

import (
	"testing"
	"time"

	"switchboard/config"
)

// TestLeaseSize: a worker leases no more than its senders can start within
// half a lease at the recent pace.
func TestLeaseSize(t *testing.T) {
	w := &Worker{cfg: config.Delivery{Workers: 8, Batch: 64, Lease: 30 * time.Second}}
	for _, tc := range []struct {
		free int
		pace time.Duration
		want int
	}{
		{free: 8, pace: 0, want: 8},                      // no send ended yet: one each
		{free: 3, pace: time.Millisecond, want: 64},      // fast sends: a full batch
		{free: 3, pace: 10 * time.Second, want: 3 + 8*1}, // one more wave fits in 15s
		{free: 3, pace: 20 * time.Second, want: 3},       // none does
		{free: 8, pace: 2 * time.Second, want: 64},       // seven waves: 8 + 56
		{free: 8, pace: 3 * time.Second, want: 8 + 8*5},
	} {
		if got := w.leaseSize(tc.free, tc.pace); got != tc.want {
			t.Errorf("leaseSize(free %d, pace %s) = %d, want %d", tc.free, tc.pace, got, tc.want)
		}
	}
}
