package verify_test

import (
	"context"
	"fmt"

	"github.com/everify/everify/verify"
)

// An offline Verifier (no DNS, no SMTP) checks syntax and the lists only.
func ExampleVerifier_Verify() {
	v := &verify.Verifier{}
	defer v.Close()
	for _, addr := range []string{
		"Jane Doe <jane@gmail.con>",
		"info@mailinator.com",
		"bob@example.com",
		"carl@@gmail.com",
	} {
		r, err := v.Verify(context.Background(), addr)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %s/%s role=%v suggestion=%q\n", r.Input, r.Status, r.Reason, r.Role, r.Suggestion)
	}
	// Output:
	// Jane Doe <jane@gmail.con>: unknown/smtp_skipped role=false suggestion="jane@gmail.com"
	// info@mailinator.com: risky/disposable role=true suggestion=""
	// bob@example.com: undeliverable/reserved_domain role=false suggestion=""
	// carl@@gmail.com: undeliverable/invalid_syntax role=false suggestion=""
}
