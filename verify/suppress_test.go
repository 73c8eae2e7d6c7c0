package verify_test

import (
	"testing"

	"github.com/everify/everify/internal/fakes"
	"github.com/everify/everify/verify"
)

// suppressList maps addresses to their soft bounces; -1 means suppressed.
type suppressList map[string]int

func (s suppressList) Suppressed(email string) (bool, int) {
	n := s[email]
	return n < 0, max(n, 0)
}

// TestSuppress: a suppressed address is undeliverable without any DNS or SMTP work,
// --deny still wins and --allow does not override a suppression; an address with soft
// bounces below the limit is verified as usual and carries their count.
func TestSuppress(t *testing.T) {
	z := fakes.NewZoo(t)
	v := newVerifier(t, z, func(v *verify.Verifier) {
		v.Suppress = suppressList{"jane@corp.zz": -1, "x@denied.zz": -1, "vip@corp.zz": -1, "info@corp.zz": 3}
		v.Deny = mustMatcher(t, z.DenyList)
		v.Allow = mustMatcher(t, "corp.zz\n")
	})
	r := check(t, v, "jane@CORP.zz", want{verify.StatusUndeliverable, verify.ReasonSuppressed, false})
	if r.SoftBounces != 0 || r.Email != "jane@corp.zz" {
		t.Errorf("suppressed result %+v", r)
	}
	if z.Corp.Seen("jane@corp.zz") != 0 || v.Stats().DNSQueries != 0 {
		t.Errorf("a suppressed address was looked up or probed (%d DNS queries)", v.Stats().DNSQueries)
	}
	check(t, v, "x@denied.zz", want{verify.StatusUndeliverable, verify.ReasonDenied, false})
	check(t, v, "vip@corp.zz", want{verify.StatusUndeliverable, verify.ReasonSuppressed, false})
	r = check(t, v, "info@corp.zz", want{verify.StatusDeliverable, verify.ReasonAllowed, false})
	if r.SoftBounces != 3 {
		t.Errorf("soft_bounces = %d, want 3", r.SoftBounces)
	}
}
