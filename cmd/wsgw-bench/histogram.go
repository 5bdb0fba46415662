package main

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear: values below 2^subBits nanoseconds
// have a bucket each, and every next power of two is cut into 2^(subBits-1)
// buckets of equal width. A bucket is thus at most 1/2^(subBits-1) of its
// values wide (0.78%), and a quantile, read as the middle of its bucket, is
// within 0.4% of the exact nearest-rank value of the same sample. Values past
// maxLatency (68.7 s) share the last bucket; the maximum is kept exactly.
const (
	subBits    = 8
	subCount   = 1 << subBits // 256
	halfCount  = subCount / 2
	maxShift   = 36 - subBits // top bucket range: [2^35, 2^36) ns
	numBuckets = subCount + maxShift*halfCount
	maxLatency = time.Duration(1)<<36 - 1
)

// histogram records latencies in bounded memory (numBuckets counters, 30 KiB)
// whatever the number of samples. One goroutine records into it; histograms
// of several goroutines are merged afterwards.
type histogram struct {
	counts [numBuckets]uint64
	n      uint64
	max    time.Duration
}

func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v > uint64(maxLatency) {
		v = uint64(maxLatency)
	}
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // v>>shift is in [halfCount, subCount)
	return subCount + (shift-1)*halfCount + int(v>>shift) - halfCount
}

// bucketRange returns the values [lo, hi] bucket i holds.
func bucketRange(i int) (lo, hi time.Duration) {
	if i < subCount {
		return time.Duration(i), time.Duration(i)
	}
	shift := (i-subCount)/halfCount + 1
	top := uint64((i-subCount)%halfCount + halfCount)
	return time.Duration(top << shift), time.Duration((top+1)<<shift - 1)
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the nearest-rank q-quantile (0 < q ≤ 1): the value of
// rank ceil(q·n) in the sorted sample, as the middle of its bucket, never
// above the maximum. Zero when the histogram is empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			return min(lo+(hi-lo)/2, h.max)
		}
	}
	return h.max
}
