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

# GLib 2.74's slice allocator would hide leaked GArrays and hash tables
# from LeakSanitizer.
export G_SLICE=always-malloc

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts="$(dirname "$fuzzer")/fuzz-artifacts"
mkdir -p "$artifacts"

# A crash or a leak exits with 1, not libFuzzer's default 77, which meson
# would count as a skip; 77 stays for a target whose data is absent.
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$scratch" "$seeds"
