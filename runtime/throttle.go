package runtime

import (
	"math"
	"sync"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// bucket is a token bucket (SPEC ): it holds at most burst tokens and
// refills at rate tokens per second; each message takes one.
type bucket struct {
	rate  float64
	burst float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket for t. A throttle with a positive rate and
// no burst gets a burst of max(1, rate) so that it passes traffic; a rate and
// burst of zero blocks every message, as on API Gateway.
func newBucket(t *compile.Throttle, now time.Time) *bucket {
	burst := float64(t.Burst)
	if burst <= 0 && t.Rate > 0 {
		burst = math.Max(1, t.Rate)
	}
	return &bucket{rate: t.Rate, burst: burst, tokens: burst, last: now}
}

// take reports whether a token was available at now, and takes it.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
