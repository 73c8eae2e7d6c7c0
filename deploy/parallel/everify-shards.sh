#!/usr/bin/env bash
# everify-shards.sh: verify a list as N shards at once with GNU parallel, then merge
# them into the output one 'everify bulk' would write.
#
#   everify-shards.sh [-S LOGINS] N INPUT OUTPUT [BULK FLAGS...]
#
#   -S LOGINS  run the shards on other machines over ssh: GNU parallel's --sshlogin,
#              e.g. "1/mx1.example,1/mx2.example" (one shard at a time per machine, so
#              that each leaves through its own address). The input is copied to each
#              machine, the shard outputs and manifests copied back and removed there.
#              everify must be on each machine's PATH.
#
# Without -S the N shards run here, at once (useful with several egress addresses via
# --proxy, or to use several cores offline). The shard outputs stay in a temporary
# directory that is removed after a successful merge and kept, and named, otherwise.
set -euo pipefail

logins=""
if [ "${1:-}" = "-S" ]; then
	logins=$2
	shift 2
fi
if [ "$#" -lt 3 ]; then
	echo "usage: $0 [-S LOGINS] N INPUT OUTPUT [BULK FLAGS...]" >&2
	exit 64
fi
n=$1 input=$2 output=$3
shift 3
case "$output" in /*) ;; *) output="$PWD/$output" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/everify-shards.XXXXXX")
name=$(basename "$work") # unique, also in the remote home directories
cp -- "$input" "$work/$name.in"
cd "$work"

remote=()
if [ -n "$logins" ]; then
	remote=(--sshlogin "$logins" --basefile "$name.in" --return "$name.{}" --return "$name.{}.shard.json" --cleanup)
fi
# --halt now,fail=1: one failed shard stops the others; merge would refuse anyway.
if ! seq 1 "$n" | parallel --jobs "$n" --halt now,fail=1 --tag "${remote[@]}" \
	everify bulk --progress never --shard "{}/$n" -o "$name.{}" "$@" "$name.in"; then
	echo "$0: a shard failed; its outputs are in $work" >&2
	exit 1
fi
shards=()
for k in $(seq 1 "$n"); do shards+=("$name.$k"); done
if ! everify merge -o "$output" "${shards[@]}"; then
	echo "$0: merge failed; the shard outputs are in $work" >&2
	exit 1
fi
rm -rf -- "$work"
