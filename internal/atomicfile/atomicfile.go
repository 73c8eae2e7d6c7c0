// Package atomicfile writes files that readers see either as they were or complete.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write creates path through a temporary file in the same directory: write fills it,
// it is synced, given mode 0644 (a temporary file's 0600 would hide it from the group)
// and renamed over path. When anything fails, path is untouched and the temporary file
// removed.
func Write(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// WriteBytes is [Write] of data.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
