package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// commands lists the subcommands of wsgw. Adding a command is one line here: a
// constructor, in the command's own file, that takes the IO streams and
// returns a *cobra.Command whose RunE calls a run function writing only to
// those streams. Errors a RunE returns before doing any work should come from
// usageErrorf (exit 2); exitError carries any other exit status.
var commands = []func(*iostreams) *cobra.Command{
	newValidateCmd,
	newServeCmd,
	newPlanCmd,
	newReplayCmd,
	newVersionCmd,
}

// iostreams are the standard streams a command reads and writes. Commands
// never touch os.Stdin, os.Stdout or os.Stderr directly, so tests drive them
// with buffers.
type iostreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// exitError ends a command with a given exit status. A nil err means the
// command has already said everything it had to say.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Exit statuses shared by every command (SPEC ).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageErrorf reports a mistake in the command line: exit status 2, with a
// hint to read --help.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitWith ends a command silently with code.
func exitWith(code int) error {
	if code == exitOK {
		return nil
	}
	return &exitError{code: code}
}

func newRootCmd(ios *iostreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "wsgw",
		Short: "Lint and run Amazon API Gateway WebSocket APIs locally",
		Long: `wsgw reads CloudFormation, SAM and CDK templates that define Amazon API Gateway
WebSocket APIs. It checks them with file:line:col diagnostics and stable rule IDs,
and runs them as a local gateway that behaves like the real one.`,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.Err)
	for _, newCmd := range commands {
		root.AddCommand(newCmd(ios))
	}
	return root
}

// run executes the wsgw command line args and returns the process exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ios := &iostreams{In: stdin, Out: stdout, Err: stderr}
	root := newRootCmd(ios)
	// A command that fails before its RunE starts failed to parse its flags
	// or arguments, or does not exist: a usage error.
	started := false
	markStarted(root, &started)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		err = ee.err
	case !started:
		code = exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsgw: %v\n", err)
		if code == exitUsage && cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}

// markStarted wraps the RunE of c and its subcommands so that *started is set
// once a command begins its work.
func markStarted(c *cobra.Command, started *bool) {
	if f := c.RunE; f != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*started = true
			return f(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markStarted(sub, started)
	}
}
