package main

import (
	"context"
	"io"
	"os"

	"github.com/everify/everify/csvio"
)

// Opening a file can block with no bound: a named pipe (FIFO) until a writer (or, for
// the output, a reader) comes, a hung network file system forever. Such a wait must
// still end on Ctrl-C or SIGTERM, so every open of a command's input or output goes
// through openCtx.

// openCtx calls open in a goroutine of its own and returns its file, or ctx's error as
// soon as ctx ends. A file the abandoned open returns later is closed.
func openCtx(ctx context.Context, open func() (*os.File, error)) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := open()
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// openInput opens path for reading; see openCtx.
func openInput(ctx context.Context, path string) (*os.File, error) {
	return openCtx(ctx, func() (*os.File, error) { return os.Open(path) })
}

// createOutput creates (or truncates) path for writing; see openCtx. It opens write-only,
// unlike os.Create: read-write, a FIFO would open at once with no reader and swallow
// the output.
func createOutput(ctx context.Context, path string) (*os.File, error) {
	return openCtx(ctx, func() (*os.File, error) {
		return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	})
}

// openBulkInput opens the input and, for a regular file, counts its lines for the
// progress bar's total (-1 when unknown). Every read of the returned reader, like the
// open itself, ends when ctx does (a FIFO whose writer never writes, a stalled mount).
func openBulkInput(ctx context.Context, opts *BulkOptions) (io.Reader, int64, func(), error) {
	if opts.File == "-" {
		return newCtxReader(ctx, opts.IO.In), -1, func() {}, nil
	}
	f, err := openInput(ctx, opts.File)
	if err != nil {
		return nil, 0, nil, err
	}
	total := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && wantProgress(opts) {
		n, err := csvio.CountLines(newCtxReader(ctx, f))
		if ctx.Err() != nil {
			f.Close()
			return nil, 0, nil, ctx.Err()
		}
		if err == nil {
			total = int64(n)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, nil, err
		}
	}
	return newCtxReader(ctx, f), total, func() { f.Close() }, nil
}
