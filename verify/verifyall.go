package verify

import (
	"context"
	"iter"

	"github.com/everify/everify/internal/stream"
)

// VerifyAll verifies inputs with at most workers in flight and calls emit with the
// results in input order. Errors are those of the ordered stream: ctx's, or emit's.
func (v *Verifier) VerifyAll(ctx context.Context, workers int, inputs iter.Seq[string], emit func(Result) error) error {
	return stream.Ordered(ctx, workers, inputs, v.Verify, func(_ string, r Result) error { return emit(r) })
}
