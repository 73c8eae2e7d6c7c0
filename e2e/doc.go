// Package e2e is everify's end-to-end suite: it runs the built everify binary against a
// real Postfix and a real DNS server (dnsmasq), both from Debian packages, inside a
// network namespace that the suite creates and tears down itself (loopback only).
//
// The tests are behind the e2e build tag and need root (ip netns add):
//
//	bash e2e/install-deps.sh
//	go test -tags e2e -count=1 -v ./e2e/
//
// EVERIFY_BIN selects a prebuilt binary (default: built from ./cmd/everify).
// EVERIFY_E2E_SKIP=1 turns "cannot build the environment" into a skip instead of a
// failure. EVERIFY_E2E_KEEP=1 keeps the work directory (configs, logs, everify's
// output). The servers' configuration is under testdata/e2e/.
package e2e
