#!/usr/bin/env bash
# test/split_corpus.sh: helper of sql/split.sql, which runs the planner
# corpus again once the seed 004 group ("dist" / "local" of the
# differential test) has split shards.
#
#   split_corpus.sh filter CORPUS_SQL OUT
#       writes the seed 004 part of sql/planner_corpus.sql to OUT (the seed
#       001 to 003 schemas are gone by the time the split test runs)
#   split_corpus.sh compare EXPECTED_OUT RESULT_OUT
#       prints "<checks ok>|<MISMATCH lines>|<lines whose strategy differs
#       from the unsplit run>": result lines are compared with the same
#       labels' lines of expected/planner_corpus.out, task and row counts
#       aside (a split group has more shards; the data changed since)
set -euo pipefail

case "$1" in
filter)
	grep -v -E "local00[123]|'00[123]'\);\$" "$2" > "$3"
	;;
compare)
	norm() { grep -E '^[0-9]{3} ' "$1" | sed -E 's/[0-9]+ (task\(s\)|rows)/N \1/g' || true; }
	ok=$(grep -Ec '^[0-9]{3} .*: ok, ' "$3" || true)
	mismatch=$(grep -c 'MISMATCH' "$3" || true)
	differ=$(diff <(norm "$3") \
		<(awk 'NR == FNR { want[$1] = 1; next } ($1 in want)' <(norm "$3") <(norm "$2")) |
		grep -c '^[<>]' || true)
	echo "$ok|$mismatch|$differ"
	;;
*)
	echo "usage: $0 filter CORPUS_SQL OUT | compare EXPECTED_OUT RESULT_OUT" >&2
	exit 2
	;;
esac
