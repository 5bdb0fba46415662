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

// newBucket returns a full bucket for t, taking the template's values
// literally. API Gateway throttles with a token bucket whose burst is "the
// maximum bucket size" (developer guide, "Protect your WebSocket APIs in API
// Gateway"), so a burst of 0 holds no token and every message is throttled,
// whatever the rate; AWS does not spell that case out, and wsgw does not
// rewrite it. A burst the template leaves out is not 0: compile fills it in
// with the account-level 5000.
func newBucket(t *compile.Throttle, now time.Time) *bucket {
	burst := float64(t.Burst)
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
