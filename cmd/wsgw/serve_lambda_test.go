package main

import (
	"strings"
	"testing"
)

// The Lambda flags of serve are checked before anything starts.
func TestServeLambdaFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"lambda endpoint not a URL", []string{"--lambda-endpoint", "localhost:3010"}, "--lambda-endpoint \"localhost:3010\": want an absolute http(s) URL"},
		{"empty api key", []string{"--api-key", ""}, "--api-key must not be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...), chatTemplate)
			_, errs, code := runWSGW(args...)
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errs, exitUsage, tc.want)
			}
		})
	}
}
