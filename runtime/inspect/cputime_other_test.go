//go:build !unix

package inspect

import "time"

// cpuTime is not measured here: the cpu-ns/msg metric reads 0.
func cpuTime() time.Duration { return 0 }
