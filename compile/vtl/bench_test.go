package vtl_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/wsgw/wsgw/compile/vtl"
)

func corpusFile(b *testing.B, name string) map[string][]byte {
	b.Helper()
	a, err := txtar.ParseFile(filepath.Join("testdata", "corpus", name+".txtar"))
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range a.Files {
		files[f.Name] = f.Data
	}
	return files
}

// BenchmarkRender renders typical API Gateway templates: AWS's photos
// example (a #foreach over $input.path) and a WebSocket message reshaped
// for an HTTP backend. Each iteration builds $input from the payload, as
// the gateway does per message.
func BenchmarkRender(b *testing.B) {
	ws := map[string]any{
		"connectionId": "L0SM9cOFvHcCIhw=", "routeKey": "sendmessage", "stage": "dev",
		"requestTimeEpoch": 1700000001000, "identity": map[string]string{"sourceIp": "192.0.2.1"},
	}
	for _, name := range []string{"aws-photos-request", "ws-sendmessage", "serverless-define-loop"} {
		files := corpusFile(b, name)
		tpl, err := vtl.Parse(name, string(files["template.vtl"]))
		if err != nil {
			b.Fatal(err)
		}
		body := files["body"]
		util := vtl.Util()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				vars := vtl.Vars{"input": vtl.NewInput(body, vtl.Params{}), "util": util, "context": ws, "stageVariables": map[string]string{"backend": "http://127.0.0.1:8080"}}
				if err := tpl.Render(io.Discard, vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse parses the photos template (compile time, not per message).
func BenchmarkParse(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "corpus", "aws-photos-request.txtar"))
	if err != nil {
		b.Fatal(err)
	}
	tplSrc := string(txtar.Parse(src).Files[0].Data)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := vtl.Parse("photos", tplSrc); err != nil {
			b.Fatal(err)
		}
	}
}
