// Command gohandler is the test function of runtime/lambda, built with
// aws-lambda-go as a provided.al2023 bootstrap. The event's "op" tells it what
// to do: echo (the default), fail, panic, sleep, exit, stdout, protocol or
// barrier.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// version is set with -ldflags "-X main.version=..." to see a rebuild take effect.
var version = "v1"

type event struct {
	Op  string   `json:"op"`
	Ms  int      `json:"ms"`
	Env []string `json:"env"`
	URL string   `json:"url"`
}

type reply struct {
	Version    string            `json:"version"`
	Pid        int               `json:"pid"`
	Event      json.RawMessage   `json:"event"`
	RequestID  string            `json:"requestId"`
	Arn        string            `json:"arn"`
	DeadlineMs int64             `json:"deadlineMs"`
	Env        map[string]string `json:"env,omitempty"`
	Cwd        string            `json:"cwd"`
	Start      int64             `json:"start"`
	End        int64             `json:"end"`
}

type badThing struct{ what string }

func (b *badThing) Error() string { return "bad thing: " + b.what }

func handle(ctx context.Context, raw json.RawMessage) (*reply, error) {
	r := &reply{Version: version, Pid: os.Getpid(), Event: raw, Start: time.Now().UnixNano()}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.RequestID, r.Arn = lc.AwsRequestID, lc.InvokedFunctionArn
	}
	if d, ok := ctx.Deadline(); ok {
		r.DeadlineMs = time.Until(d).Milliseconds()
	}
	r.Cwd, _ = os.Getwd()
	var ev event
	_ = json.Unmarshal(raw, &ev)
	switch ev.Op {
	case "fail":
		return nil, &badThing{"told to fail"}
	case "panic":
		panic("told to panic")
	case "sleep":
		time.Sleep(time.Duration(ev.Ms) * time.Millisecond)
	case "exit":
		fmt.Fprintln(os.Stderr, "exiting with status 3 as told")
		os.Exit(3)
	case "stdout":
		fmt.Println("hello from stdout")
		os.Stdout.Write([]byte{0xff, 0xfe, 0x00, 'x', '\n'})
		fmt.Fprintln(os.Stderr, "hello from stderr")
	case "protocol":
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/not-a-request-id/response"
		resp, err := http.Post(url, "application/json", strings.NewReader(`{}`))
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(10 * time.Second) // the runner should kill the process before this ends
	case "barrier":
		resp, err := http.Get(ev.URL)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
	}
	if len(ev.Env) > 0 {
		r.Env = map[string]string{}
		for _, k := range ev.Env {
			if v, ok := os.LookupEnv(k); ok {
				r.Env[k] = v
			}
		}
	}
	r.End = time.Now().UnixNano()
	return r, nil
}

func main() { lambda.Start(handle) }
