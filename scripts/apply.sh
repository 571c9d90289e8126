#!/bin/bash
# Check out a variant in the work tree: branch "variant/<name>" = base plus
# the variant's patches applied with git am. On failure, name the patch and
# the file whose hunk did not apply, and stop.
# Usage: scripts/apply.sh VARIANT
. "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: $0 VARIANT"
variant=$1
patches=$("$TOP/scripts/variant-patches.sh" "$variant") || exit 1
[ -d "$TREE/.git" ] || die "no work tree at $TREE: run scripts/fetch-base.sh"
cd "$TREE"

git am --abort >/dev/null 2>&1 || true
if ! git diff --quiet HEAD --; then
	die "work tree $TREE has uncommitted changes; commit or stash them first"
fi

for p in $patches; do
	[ -f "$p" ] || die "patch of variant $variant not found: $p"
done
# Reuse the longest prefix of what is checked out that matches the wanted
# patches, so only the files of the other patches are rewritten and the next
# build stays incremental (identical content keeps its timestamps).
pid() { git patch-id --stable | cut -d' ' -f1; }
mapfile -t want < <(for p in $patches; do pid < "$p"; done)
mapfile -t have_commits < <(git rev-list --reverse base..HEAD 2>/dev/null)
keep=0
for c in "${have_commits[@]}"; do
	[ $keep -lt ${#want[@]} ] || break
	[ "$(git show "$c" | pid)" = "${want[$keep]}" ] || break
	keep=$((keep + 1))
done
if [ "$(git merge-base HEAD base)" != "$(git rev-parse base)" ]; then
	keep=0
fi
start=base
[ $keep -gt 0 ] && start=${have_commits[$((keep - 1))]}
branch=variant/$variant
git checkout -q -B "$branch" "$start"

i=0
for p in $patches; do
	i=$((i + 1))
	[ $i -le $keep ] && continue
	# The patch's own date as committer date: the applied copy is not new work.
	if ! out=$(git am -q --keep-cr --committer-date-is-author-date "$p" 2>&1); then
		git am --abort >/dev/null 2>&1 || true
		echo "$out" | grep -E '^(error|Patch failed|fatal)' >&2 || echo "$out" >&2
		files=$(echo "$out" | sed -n 's/^error: patch failed: \(.*\):[0-9]*$/\1/p' | sort -u | tr '\n' ' ')
		die "patch does not apply: $(basename "$p")${files:+ (failing hunk in: $files)}"
	fi
done
note "variant $variant: $(git rev-list --count base..HEAD) patches on base ($keep kept, $((i - keep)) applied)"
