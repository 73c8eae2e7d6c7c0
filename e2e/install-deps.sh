#!/usr/bin/env bash
# Installs the Debian packages the end-to-end suite (go test -tags e2e ./e2e/) needs:
# a real Postfix, a real DNS server (dnsmasq) and iproute2 for network namespaces.
# Idempotent; retries apt on transient failures. The system services these packages
# would start are stopped and disabled: the suite runs its own instances, inside a
# network namespace it creates, with its own configuration.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
pkgs=(postfix dnsmasq-base iproute2 ca-certificates)

need=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -eq 0 ]; then
	echo "e2e deps: already installed: ${pkgs[*]}"
	exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

retry() { # retry N CMD...: run CMD up to N times, 10 s apart.
	local n=$1 i
	shift
	for ((i = 1; i <= n; i++)); do
		"$@" && return 0
		echo "e2e deps: attempt $i/$n failed: $*" >&2
		[ "$i" -lt "$n" ] && sleep 10
	done
	return 1
}

# "No configuration": postfix's postinst then writes no /etc/postfix/main.cf and does
# not start the system instance. The suite needs only the binaries.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
echo "postfix postfix/mailname string e2e.invalid" | $sudo debconf-set-selections

# Keep maintainer scripts from starting services (the system postfix/dnsmasq must not
# grab port 25 or 53 on the host). policy-rc.d exit 101 = "action forbidden".
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	created_policy=1
fi
cleanup() { [ -z "$created_policy" ] || $sudo rm -f "$policy"; }
trap cleanup EXIT

retry 3 $sudo apt-get update -q
retry 3 $sudo apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}"

# Belt and braces: if a system instance is running anyway, stop it.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$sudo systemctl disable --now postfix.service dnsmasq.service 2>/dev/null || true
fi
if [ -f /etc/postfix/main.cf ] && $sudo postfix status >/dev/null 2>&1; then
	$sudo postfix stop || true
fi

echo "e2e deps: installed ${need[*]}"
