package lambda

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// The runtime loops wsgw ships for the interpreted runtimes: small Runtime API
// clients that load the function's Handler and call it for every event.
const (
	nodeLoopFile   = "wsgw-lambda-runtime.mjs"
	pythonLoopFile = "wsgw_lambda_runtime.py"
)

//go:embed bootstrap/node.mjs
var nodeLoop []byte

//go:embed bootstrap/python.py
var pythonLoop []byte

// writeLoops writes the loops to a directory named after their contents under
// base (the user cache directory, else the temporary directory) and returns it.
// Files already there with the right contents are left alone.
func writeLoops(base string) (string, error) {
	if base == "" {
		if d, err := os.UserCacheDir(); err == nil {
			base = filepath.Join(d, "wsgw")
		} else {
			base = filepath.Join(os.TempDir(), "wsgw")
		}
	}
	sum := sha256.New()
	sum.Write(nodeLoop)
	sum.Write(pythonLoop)
	dir := filepath.Join(base, "lambda-runtime-"+hex.EncodeToString(sum.Sum(nil))[:12])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("runtime loops: %w", err)
	}
	for name, content := range map[string][]byte{nodeLoopFile: nodeLoop, pythonLoopFile: pythonLoop} {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
			continue
		}
		tmp, err := os.CreateTemp(dir, name+".*")
		if err != nil {
			return "", fmt.Errorf("runtime loops: %w", err)
		}
		_, werr := tmp.Write(content)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), path)
		}
		if werr != nil {
			os.Remove(tmp.Name())
			return "", fmt.Errorf("runtime loops: %w", werr)
		}
	}
	return dir, nil
}
