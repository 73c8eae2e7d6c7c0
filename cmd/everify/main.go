// Command everify verifies email addresses: syntax, DNS, disposable/role/free lists and
// an SMTP RCPT probe with catch-all detection, without ever sending a message.
package main

import (
	"context"
	"os"
)

func main() {
	ctx, stop := notifySignals(context.Background(), os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], systemStreams())
	stop()
	os.Exit(code)
}
