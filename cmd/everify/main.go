// Command everify verifies email addresses: syntax, DNS, disposable/role/free lists and
// an SMTP RCPT probe with catch-all detection, without ever sending a message.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C stops the run gracefully; a second one kills the process.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], systemStreams())
	stop()
	os.Exit(code)
}
