package lambda

import (
	"encoding/binary"
	"hash/fnv"
	"io/fs"
	"path/filepath"
)

// maxFingerprintEntries bounds the walk of a code directory; changes past it
// (in a very large directory) are not noticed.
const maxFingerprintEntries = 20000

// skipDirs are not walked: dependencies, caches and VCS data. A dependency
// change (npm install) still changes node_modules' own modification time and
// package-lock.json, which are part of the fingerprint.
var skipDirs = map[string]bool{"node_modules": true, ".git": true, "__pycache__": true, ".aws-sam": true}

// fingerprint summarises the names, sizes, modes and modification times of
// the files under dir, so that a change of code restarts the function's
// processes. It reads no file contents: a walk costs well under a millisecond
// for a typical function directory.
func fingerprint(dir string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > maxFingerprintEntries {
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		h.Write([]byte(path))
		binary.LittleEndian.PutUint64(b[:], uint64(info.Size()))
		h.Write(b[:])
		binary.LittleEndian.PutUint64(b[:], uint64(info.ModTime().UnixNano()))
		h.Write(b[:])
		binary.LittleEndian.PutUint64(b[:], uint64(info.Mode()))
		h.Write(b[:])
		if d.IsDir() && path != dir && skipDirs[d.Name()] {
			return filepath.SkipDir
		}
		return nil
	})
	return h.Sum64()
}
