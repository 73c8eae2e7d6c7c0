package verify

// A Suppressor is a suppression list: addresses that bounced hard, complained, or bounced
// soft too often (package dsn builds one from bounce logs). Implementations must be safe
// for concurrent use.
type Suppressor interface {
	// Suppressed looks up a normalized address ([Result.Email]). It reports whether the
	// address is suppressed and, when it is not, its soft bounces counted so far.
	Suppressed(email string) (suppressed bool, softBounces int)
}

// suppressed reports whether r's address is on v.Suppress, recording the soft bounces
// of an address that is listed below the limit.
func (v *Verifier) suppressed(r *Result) bool {
	if v.Suppress == nil {
		return false
	}
	sup, soft := v.Suppress.Suppressed(r.Email)
	if !sup {
		r.SoftBounces = soft
	}
	return sup
}
