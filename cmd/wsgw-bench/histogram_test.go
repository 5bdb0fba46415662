package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	// Every value falls in the bucket whose range holds it, buckets follow
	// each other without gaps, and none is wider than 1/128 of its values.
	prevHi := time.Duration(-1)
	for i := range numBuckets {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, prevHi+1)
		}
		if float64(hi-lo+1) > float64(lo)/128+1 {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/128 of its values", i, lo, hi)
		}
		for _, v := range []time.Duration{lo, hi, lo + (hi-lo)/2} {
			if b := bucketOf(v); b != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, b, i)
			}
		}
		prevHi = hi
	}
	if prevHi != maxLatency {
		t.Errorf("last bucket ends at %d, want %d", prevHi, maxLatency)
	}
	if b := bucketOf(time.Hour); b != numBuckets-1 {
		t.Errorf("bucketOf(1h) = %d, want the last bucket", b)
	}
	if b := bucketOf(-time.Second); b != 0 {
		t.Errorf("bucketOf(-1s) = %d, want 0", b)
	}
}

// TestQuantiles compares the histogram's quantiles with the exact
// nearest-rank ones of a sorted sample.
func TestQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		gen  func() time.Duration
		n    int
	}{
		{"one", func() time.Duration { return 1234567 * time.Nanosecond }, 1},
		{"small", func() time.Duration { return time.Duration(r.IntN(300)) }, 1000},
		{"uniform ms", func() time.Duration { return time.Duration(r.Int64N(int64(10 * time.Millisecond))) }, 100000},
		{"lognormal", func() time.Duration {
			return time.Duration(math.Exp(r.NormFloat64()*1.5 + 13)) // around 0.4 ms, long tail
		}, 50000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h, a, b histogram
			sample := make([]time.Duration, tt.n)
			for i := range sample {
				sample[i] = tt.gen()
				h.record(sample[i])
				// Split the sample across two histograms, merged below.
				if i%2 == 0 {
					a.record(sample[i])
				} else {
					b.record(sample[i])
				}
			}
			a.merge(&b)
			slices.Sort(sample)
			if h.n != uint64(tt.n) || h.max != sample[len(sample)-1] || a.n != h.n || a.max != h.max {
				t.Fatalf("n %d max %v (merged: %d %v), want %d %v", h.n, h.max, a.n, a.max, tt.n, sample[len(sample)-1])
			}
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				exact := sample[int(math.Ceil(q*float64(tt.n)))-1]
				got := h.quantile(q)
				if d := math.Abs(float64(got - exact)); d > float64(exact)*0.004+1 {
					t.Errorf("quantile(%v) = %v, exact %v: off by more than 0.4%%", q, got, exact)
				}
				if m := a.quantile(q); m != got {
					t.Errorf("merged quantile(%v) = %v, want %v", q, m, got)
				}
			}
		})
	}
	var empty histogram
	if q := empty.quantile(0.5); q != 0 {
		t.Errorf("empty quantile = %v, want 0", q)
	}
}
