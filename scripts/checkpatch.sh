#!/bin/bash
# Run the base tree's scripts/checkpatch.pl --strict (with codespell) on every
# patch of the series. Any ERROR, WARNING or CHECK fails.
# Usage: scripts/checkpatch.sh [PATCH...]
. "$(dirname "$0")/common.sh"

# Without arguments: the series (a missing or empty patches/series fails).
if [ $# -eq 0 ]; then
	list=$("$TOP/scripts/variant-patches.sh" series) || exit 1
	mapfile -t patches <<<"$list"
	[ -n "$list" ] || die "checkpatch: no patch to check in $PATCHES/series"
else
	patches=("$@")
fi

cp=$TREE/scripts/checkpatch.pl
[ -x "$cp" ] || die "$cp not found: run make base"
dict=$(python3 -c 'import codespell_lib, os; print(os.path.join(os.path.dirname(codespell_lib.__file__), "data", "dictionary.txt"))' 2>/dev/null ||
       ls /usr/lib/python3/dist-packages/codespell_lib/data/dictionary.txt 2>/dev/null || true)
[ -f "$dict" ] || die "codespell dictionary not found: install codespell"

# FILE_PATH_CHANGES ("does MAINTAINERS need updating?") fires for every new
# file; instead, every file the series adds must have a maintainer.
fail=0
for p in "${patches[@]}"; do
	rc=0
	out=$(cd "$TREE" && ./scripts/checkpatch.pl --strict --codespell \
		--codespellfile "$dict" --ignore FILE_PATH_CHANGES --no-tree \
		--terse --show-types "$p" 2>&1) || rc=$?
	if [ $rc = 0 ] && ! echo "$out" | grep -qE '(ERROR|WARNING|CHECK):'; then
		echo "checkpatch: $(basename "$p"): clean"
	else
		echo "checkpatch: $(basename "$p"):"
		echo "$out" | sed 's/^/  /'
		fail=1
	fi
	for f in $(sed -n 's|^+++ b/||p' "$p" | sort -u); do
		grep -q "^--- /dev/null" <(grep -B1 -F "+++ b/$f" "$p") || continue
		if ! (cd "$TREE" && ./scripts/get_maintainer.pl --no-git --no-git-fallback \
				--m --no-r --no-l -f "$f" 2>/dev/null | grep -q @); then
			echo "checkpatch: $(basename "$p"): new file $f has no maintainer in MAINTAINERS"
			fail=1
		fi
	done
done
[ $fail = 0 ] || die "checkpatch --strict found problems (above)"
