//go:build !linux

package lambda

import "errors"

// newInotifyWatch: inotify is Linux's; elsewhere the directory is walked.
func newInotifyWatch(string) (codeWatch, error) { return nil, errors.ErrUnsupported }
