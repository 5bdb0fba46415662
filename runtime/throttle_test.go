package runtime

import (
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// SPEC: the token bucket's burst and refill, with the template's
// values taken literally.
func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name  string
		th    compile.Throttle
		at    []time.Duration // offsets of the takes
		taken []bool
	}{
		{"burst then empty", compile.Throttle{Rate: 1, Burst: 3}, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}},
		{"refills at rate", compile.Throttle{Rate: 2, Burst: 1}, []time.Duration{0, 0, 250 * time.Millisecond, 500 * time.Millisecond}, []bool{true, false, false, true}},
		{"never above burst", compile.Throttle{Rate: 100, Burst: 2}, []time.Duration{time.Hour, time.Hour, time.Hour}, []bool{true, true, false}},
		{"zero blocks everything", compile.Throttle{}, []time.Duration{0, time.Hour}, []bool{false, false}},
		// The burst is the bucket's size: with 0 no message passes, whatever
		// the rate (compile fills an unset burst with the account's 5000).
		{"burst 0 blocks everything despite a rate", compile.Throttle{Rate: 5}, []time.Duration{0, time.Second, time.Hour}, []bool{false, false, false}},
		{"burst 1 passes one at a time", compile.Throttle{Rate: 5, Burst: 1}, []time.Duration{0, 0, 200 * time.Millisecond}, []bool{true, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBucket(&tc.th, t0)
			for i, d := range tc.at {
				if got := b.take(t0.Add(d)); got != tc.taken[i] {
					t.Fatalf("take %d at +%s = %v, want %v", i, d, got, tc.taken[i])
				}
			}
		})
	}
}
