#!/bin/bash
# Run the base tree's scripts/checkpatch.pl --strict (with codespell) on every
# patch of the series, and on the cover letter's absence of nothing else.
# Any ERROR, WARNING or CHECK fails.
# Usage: scripts/checkpatch.sh [PATCH...]
. "$(dirname "$0")/common.sh"

cp=$TREE/scripts/checkpatch.pl
[ -x "$cp" ] || die "$cp not found: run make base"
dict=$(python3 -c 'import codespell_lib, os; print(os.path.join(os.path.dirname(codespell_lib.__file__), "data", "dictionary.txt"))' 2>/dev/null ||
       ls /usr/lib/python3/dist-packages/codespell_lib/data/dictionary.txt 2>/dev/null || true)
[ -f "$dict" ] || die "codespell dictionary not found: install codespell"

if [ $# -eq 0 ]; then
	mapfile -t patches < <("$TOP/scripts/variant-patches.sh" series)
else
	patches=("$@")
fi
[ ${#patches[@]} -gt 0 ] || { note "checkpatch: the series is empty"; exit 0; }

fail=0
for p in "${patches[@]}"; do
	if out=$(cd "$TREE" && ./scripts/checkpatch.pl --strict --codespell \
			--codespellfile "$dict" --no-tree --terse -q "$p" 2>&1) && [ -z "$out" ]; then
		echo "checkpatch: $(basename "$p"): clean"
	else
		echo "checkpatch: $(basename "$p"):"
		echo "$out" | sed 's/^/  /'
		fail=1
	fi
done
[ $fail = 0 ] || die "checkpatch --strict found problems (above)"
