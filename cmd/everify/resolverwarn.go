package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/everify/everify/diag"
	"github.com/everify/everify/verify"
)

// lieWarner warns once per run that the resolver said a popular domain (gmail.com,
// outlook.com, …) does not exist: such a resolver filters or is broken, and every
// no_such_domain verdict of the run is suspect.
type lieWarner struct {
	w    io.Writer
	once sync.Once
}

func newLieWarner(w io.Writer) *lieWarner { return &lieWarner{w: w} }

// observe checks one result; before, if not nil, runs before the warning is printed
// (bulk clears its progress bar).
func (l *lieWarner) observe(r *verify.Result, before func()) {
	if r.Reason != verify.ReasonNoSuchDomain || !diag.IsPopular(r.Syntax.ASCIIDomain) {
		return
	}
	l.once.Do(func() {
		if before != nil {
			before()
		}
		fmt.Fprintf(l.w, "everify: warning: the resolver says %s does not exist: it filters or is broken, and these results cannot be trusted; run 'everify doctor' or use --resolver\n", r.Syntax.ASCIIDomain)
	})
}
