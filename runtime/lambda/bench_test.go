package lambda

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/wsgw/wsgw/compile"
)

// benchFunctions are the same trivial echo handler in each runtime family.
func benchFunctions(b *testing.B) map[string]*compile.Function {
	fns := map[string]*compile.Function{"go": goFunction(b)}
	if ok, _ := CanRun(&compile.Function{Runtime: "nodejs20.x", Handler: "i.h", CodeDir: b.TempDir()}); ok {
		fns["node"] = scriptFunction(b, "nodejs20.x", "index.handler", map[string]string{
			"index.js": `exports.handler = async (event) => event;`,
		})
	}
	if ok, _ := CanRun(&compile.Function{Runtime: "python3.12", Handler: "a.h", CodeDir: b.TempDir()}); ok {
		fns["python"] = scriptFunction(b, "python3.12", "app.handler", map[string]string{
			"app.py": "def handler(event, context):\n    return event\n",
		})
	}
	return fns
}

// BenchmarkColdStart measures spawn to first /next poll (reported as
// coldstart-ms, the median) and the whole first invocation (ns/op).
//
//	go test -run '^$' -bench ColdStart -benchtime 5x ./runtime/lambda
func BenchmarkColdStart(b *testing.B) {
	for _, name := range []string{"go", "node", "python"} {
		fn := benchFunctions(b)[name]
		if fn == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			r, _ := newRunner(b, Options{})
			var colds []time.Duration
			for b.Loop() {
				r.Stop(fn.LogicalID)
				if _, err := r.Invoke(context.Background(), fn, []byte(`{"x":1}`)); err != nil {
					b.Fatal(err)
				}
				s := r.Stats()[0]
				colds = append(colds, s.ColdStarts[len(s.ColdStarts)-1])
			}
			sort.Slice(colds, func(i, j int) bool { return colds[i] < colds[j] })
			b.ReportMetric(float64(colds[len(colds)/2].Microseconds())/1000, "coldstart-ms")
		})
	}
}

// BenchmarkWarmInvoke measures one invocation of a warm process: the Runtime
// API round trip plus the runtime loop.
func BenchmarkWarmInvoke(b *testing.B) {
	for _, name := range []string{"go", "node", "python"} {
		fn := benchFunctions(b)[name]
		if fn == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			r, _ := newRunner(b, Options{})
			payload := []byte(`{"requestContext":{"routeKey":"sendmessage","connectionId":"abc="},"body":"hello"}`)
			if _, err := r.Invoke(context.Background(), fn, payload); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := r.Invoke(context.Background(), fn, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFingerprint walks this package's directory (about 30 files), the
// cost paid before every invocation.
func BenchmarkFingerprint(b *testing.B) {
	for b.Loop() {
		fingerprint(".")
	}
}
