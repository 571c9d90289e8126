#!/bin/bash
# Regenerate bases/$BASE/patches/ from the work tree's commits base..REF:
# numbered git format-patch files, a cover letter made from the base's
# cover-letter.txt (first line: subject; rest: body), To/Cc from the tree's
# get_maintainer.pl, and the series file. The subjects carry the base.conf's
# SUBJECT_PREFIX (default PATCH; e.g. "PATCH v2" for a second version).
# Usage: scripts/export.sh [REF]
. "$(dirname "$0")/common.sh"

ref=${1:-HEAD}
cd "$TREE"
git rev-parse -q --verify "$ref^{commit}" >/dev/null || die "no such ref in $TREE: $ref"
n=$(git rev-list --count "base..$ref")
[ "$n" -gt 0 ] || die "$ref has no commits on top of base: nothing to export"
[ -f "$COVER" ] || die "$COVER (the cover letter) is missing"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; git branch -q -D harness-export 2>/dev/null || true' EXIT
git format-patch -q -o "$tmp/plain" "base..$ref"
# Sorted: get_maintainer.pl's own order of equals varies from run to run
# (Perl's hash order), and an export must not change when the code did not.
mapfile -t to < <(./scripts/get_maintainer.pl --no-git --no-git-fallback \
	--no-rolestats --no-tree --m --no-r --no-l "$tmp"/plain/*.patch | grep . | LC_ALL=C sort)
mapfile -t cc < <(./scripts/get_maintainer.pl --no-git --no-git-fallback \
	--no-rolestats --no-tree --no-m --r --l "$tmp"/plain/*.patch | grep . | LC_ALL=C sort)
args=()
for a in "${to[@]}"; do args+=(--to="$a"); done
for a in "${cc[@]}"; do args+=(--cc="$a"); done

git branch -q -f harness-export "$ref"
git config branch.harness-export.description "$(cat "$COVER")"
git format-patch -q -o "$tmp/out" --cover-letter --cover-from-description=subject \
	--subject-prefix="${SUBJECT_PREFIX:-PATCH}" "${args[@]}" base..harness-export

rm -f "$PATCHES"/*.patch
mkdir -p "$PATCHES"
cp "$tmp"/out/*.patch "$PATCHES/"
{
	echo "# Applied in this order with git am on the base (see ../cover-letter.txt)."
	(cd "$PATCHES" && ls [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-cover-letter')
} >"$PATCHES/series"
note "exported $n patches (+ cover letter) from $ref to $PATCHES"
