#!/bin/sh
# run-fuzzer.sh FUZZER SEEDS SECONDS
#
# Fuzz for SECONDS starting from the SEEDS folder.  New inputs go to a
# scratch corpus, so the checkout stays as it is; an input that crashes is
# kept in fuzz-artifacts/ beside the fuzzer, to rerun as `FUZZER FILE`.
set -eu
fuzzer=$1
seeds=$2
seconds=$3

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts="$(dirname "$fuzzer")/fuzz-artifacts"
mkdir -p "$artifacts"

"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$scratch" "$seeds"
