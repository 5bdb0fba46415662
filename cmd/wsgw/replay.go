package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgw/wsgw/runtime/inspect"
)

type replayOptions struct {
	IO      *iostreams
	File    string
	To      string
	Timeout time.Duration
	Verbose bool
}

// newReplayCmd is `wsgw replay` (SPEC ).
func newReplayCmd(ios *iostreams) *cobra.Command {
	opts := &replayOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "replay FILE --to ws://HOST:PORT/STAGE",
		Short: "Replay a session recorded with 'wsgw serve --record' and report what differs",
		Long: `Replay the client side of a session that 'wsgw serve --record FILE' recorded
against a running gateway: open the recorded connections (with their query
string and headers), send their messages in the recorded order, and compare
every frame the gateway answers, every refused handshake and every close the
gateway starts with the recording. Ids (15 letters and digits then "=") and
times (ISO 8601, $context.requestTime, epoch seconds and milliseconds) are
ignored, since a new session cannot know them. Routes, integration calls and
@connections calls in the recording are not compared: replay tests what
clients see.

Each difference is printed; the exit status is 0 when there is none, 1 when
there are differences, 2 on a usage error or an unreadable recording. A session
recorded once is a regression test: commit the recording, then in CI start
'wsgw serve' and run 'wsgw replay'.`,
		Example: `  wsgw serve --record session.jsonl template.yaml      # use the API, then Ctrl-C
  wsgw replay session.jsonl --to ws://127.0.0.1:3001/dev`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("replay needs exactly one FILE, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runReplay(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.To, "to", "", "the gateway stage to replay against, `ws://HOST:PORT/STAGE` (required)")
	f.DurationVar(&opts.Timeout, "timeout", 5*time.Second, "longest wait for each frame, handshake and close")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "print every step, not only the differences")
	return cmd
}

func runReplay(ctx context.Context, o *replayOptions) error {
	if o.To == "" {
		return usageErrorf("replay needs --to ws://HOST:PORT/STAGE")
	}
	f, err := os.Open(o.File)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %s", o.File, readError(err))}
	}
	events, err := inspect.ReadRecording(f)
	f.Close()
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %v", o.File, err)}
	}
	ro := inspect.ReplayOptions{To: o.To, Timeout: o.Timeout}
	if o.Verbose {
		ro.Log = o.IO.Out
	}
	if !hasConnections(events) {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s holds no connection to replay (record one with wsgw serve --record)", o.File)}
	}
	res, err := inspect.Replay(ctx, events, ro)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if !o.Verbose {
		for _, d := range res.Diffs {
			fmt.Fprintln(o.IO.Out, d)
		}
	}
	summary := fmt.Sprintf("replayed %s: %d connections, %d messages, %d frames", o.File, res.Connections, res.Messages, res.Frames)
	if len(res.Diffs) > 0 {
		fmt.Fprintf(o.IO.Err, "%s: %s\n", summary, plural(len(res.Diffs), "difference"))
		return exitWith(exitFailure)
	}
	fmt.Fprintf(o.IO.Err, "%s: no differences\n", summary)
	return nil
}

func hasConnections(events []inspect.EventJSON) bool {
	for _, ev := range events {
		if ev.Type == "connect" {
			return true
		}
	}
	return false
}
