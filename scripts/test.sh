#!/usr/bin/env bash
# The test command of README: formatting, vet, staticcheck, the race-enabled unit and
# end-to-end tests, then the real-server suite (Postfix and dnsmasq in a network
# namespace; needs root). Installs what it needs. EVERIFY_E2E_SKIP=1 skips the last part.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...
go vet -tags e2e ./e2e/

step "staticcheck"
if ! command -v staticcheck >/dev/null 2>&1; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
staticcheck ./...

# GNU parallel: TestParallelRecipe runs the deploy/parallel recipe (it skips without it).
if ! command -v parallel >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  step "installing GNU parallel"
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends parallel
fi

step "go test -race ./..."
go test -race -count=1 ./...

if [ "${EVERIFY_E2E_SKIP:-}" = 1 ]; then
  step "real-server suite skipped (EVERIFY_E2E_SKIP=1)"
  exit 0
fi
step "real-server suite (Postfix + dnsmasq in a network namespace)"
bash e2e/install-deps.sh
go test -tags e2e -count=1 -v ./e2e/
