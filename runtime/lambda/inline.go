package lambda

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/wsgw/wsgw/compile"
)

// InlineCode writes the inline code of functions (SAM InlineCode, Lambda
// Code.ZipFile) to a private temporary directory, one directory per function
// and content, so that they run like code on disk (SPEC ). Its Write is
// compile.Options.WriteInline; Close removes everything it wrote.
type InlineCode struct {
	mu   sync.Mutex
	root string
}

// Write writes fn's InlineCode to InlineFile in a directory of its own and
// returns the directory. The same code gives the same directory, so a reload
// that leaves the code alone keeps the function's processes; new code gets
// a new directory, and new processes.
func (ic *InlineCode) Write(fn *compile.Function) (string, error) {
	if fn.InlineFile == "" || filepath.Base(fn.InlineFile) != fn.InlineFile {
		return "", fmt.Errorf("no file name for the inline code of %s", fn.LogicalID)
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.root == "" {
		root, err := os.MkdirTemp("", "wsgw-inline-") // mode 0700
		if err != nil {
			return "", err
		}
		ic.root = root
	}
	sum := sha256.Sum256([]byte(fn.InlineFile + "\x00" + fn.InlineCode))
	dir := filepath.Join(ic.root, fn.LogicalID+"-"+hex.EncodeToString(sum[:8]))
	file := filepath.Join(dir, fn.InlineFile)
	if _, err := os.Stat(file); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(fn.InlineCode), 0o600); err != nil {
		return "", err
	}
	return dir, nil
}

// Close removes the directories Write made.
func (ic *InlineCode) Close() error {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.root == "" {
		return nil
	}
	err := os.RemoveAll(ic.root)
	ic.root = ""
	return err
}
