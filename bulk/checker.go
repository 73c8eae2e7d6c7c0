package bulk

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/everify/everify/csvio"
	"github.com/everify/everify/store"
	"github.com/everify/everify/verify"
)

// checker verifies the records of one run: local verdicts first (syntax, --allow,
// --deny, reserved names: a stored verdict never overrides them), then a fresh stored
// verdict, then the network, each normalized address once.
type checker struct {
	v        *verify.Verifier
	dedup    *dedup
	store    *store.Store // nil: no reuse, no writes
	settings string
	policy   store.Policy
	refresh  bool
	now      func() time.Time
	cached   atomic.Int64
}

func (c *checker) check(ctx context.Context, rec *csvio.Record) (outcome, error) {
	if rec.Problem != "" {
		return outcome{r: verify.Invalid(rec.Address, lineProblem(rec))}, nil
	}
	input := rec.Address
	syn := c.v.Parse(input)
	if !syn.Valid {
		r, err := c.v.VerifyParsed(ctx, input, syn)
		return outcome{r: r}, err
	}
	if !c.dedup.results { // offline: verifying again is cheaper than remembering
		c.dedup.count(syn.Email())
		r, err := c.v.VerifyParsed(ctx, input, syn)
		return outcome{r: r}, err
	}
	o, err := c.dedup.do(ctx, syn.Email(), func() (outcome, error) {
		if c.store == nil {
			r, err := c.v.VerifyParsed(ctx, input, syn)
			return outcome{r: r}, err
		}
		return c.stored(ctx, input, syn)
	})
	o.r.Input = input
	return o, err
}

// stored answers from the store when it can, else verifies and marks the result for
// storing.
func (c *checker) stored(ctx context.Context, input string, syn verify.Syntax) (outcome, error) {
	if r, ok := c.v.LocalVerdict(input, syn); ok {
		return outcome{r: r}, nil
	}
	if !c.refresh {
		start := time.Now()
		r, ok, err := c.store.Lookup(ctx, syn.Email(), c.settings, c.policy, c.now())
		if err != nil {
			return outcome{}, err
		}
		if ok {
			c.cached.Add(1)
			r.DurationMS = time.Since(start).Milliseconds()
			return outcome{r: r}, nil
		}
	}
	r, err := c.v.VerifyParsed(ctx, input, syn)
	return outcome{r: r, store: err == nil}, err
}
