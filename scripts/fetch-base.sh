#!/bin/bash
# Unpack the Debian kernel source into the work tree $TREE, a git repository
# whose first commit is the base, tagged "base" and debian-<version>; the
# version is also recorded in the tree's git config (harness.baseVersion)
# and in $BUILDB/base-version.
# The base comes from the installed package (BASE_FETCH=install) or from
# scripts/fetch-deb.sh (BASE_FETCH=download). An existing work tree is reused
# only if it was made from that version of the package; otherwise this fails and leaves the tree alone
# (it may hold work: branches, commits).
. "$(dirname "$0")/common.sh"

if [ "$BASE_FETCH" = download ]; then
	"$TOP/scripts/fetch-deb.sh"
	version=$(cat "$BUILDB/deb/version")
else
	version=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true)
	[ -n "$version" ] || die "$BASE_PKG is not installed: run scripts/deps.sh (make deps)"
fi

# The base version an existing work tree was made from (empty if unknown):
# its record, or the debian-<version> tag of a tree made before the record.
tree_version() {
	local v
	v=$(git -C "$TREE" config --get harness.baseVersion 2>/dev/null || true)
	if [ -z "$v" ]; then
		v=$(git -C "$TREE" tag --points-at base --list 'debian-*' 2>/dev/null | head -n1 || true)
		v=${v#debian-}
		v=${v//_/\~}       # base_tag's '~' -> '_' (Debian versions have no '_')
	fi
	echo "$v"
}

if [ -e "$TREE" ]; then
	if ! [ -d "$TREE/.git" ] || ! git -C "$TREE" rev-parse -q --verify base >/dev/null; then
		die "$TREE exists but is not a work tree made by this script (no git tag 'base');
       it is left as it is: move it away (or rm -rf $BUILDB, every build of base $BASE) and run make base"
	fi
	have=$(tree_version)
	if [ "$have" = "$version" ]; then
		[ "$(cat "$BUILDB/base-version" 2>/dev/null)" = "$version" ] ||
			echo "$version" >"$BUILDB/base-version"
		[ "$version" = "$BASE_DEB_VERSION" ] ||
			echo "WARNING: base is $BASE_PKG $version, not the pinned $BASE_DEB_VERSION" >&2
		exit 0
	fi
	die "the work tree $TREE was made from $BASE_PKG ${have:-of an unknown version (no debian-* tag)},
       but the base is now $version (the pin is $BASE_DEB_VERSION).
       The tree is left as it is: it may hold your work (branches, commits).
       For a fresh tree of that base: rm -rf $BUILDB (every build of base $BASE),
       or move $TREE away; then run make base."
fi

[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL not found: run scripts/deps.sh"
[ "$version" = "$BASE_DEB_VERSION" ] ||
	echo "WARNING: base is $BASE_PKG $version, not the pinned $BASE_DEB_VERSION" >&2

# Made in $TREE.tmp and moved into place when complete: an interrupted run
# leaves no half-made $TREE behind.
note "unpacking $BASE_TARBALL ($version) into $TREE"
rm -rf "$TREE.tmp"
mkdir -p "$TREE.tmp"
tar -C "$TREE.tmp" -xf "$BASE_TARBALL"
src=$TREE.tmp/$BASE_PKG
[ -d "$src" ] || die "$BASE_TARBALL has no $BASE_PKG/ directory"
(
	cd "$src" || exit 1
	git init -q -b base-tree
	git config user.name "Batched Free Project"
	git config user.email "batched-free@example.org"
	git config harness.baseVersion "$version"
	# Debian's top-level .gitignore ignores everything at the top level: -f.
	git add -Af
	git commit -q -m "Debian $BASE_PKG $version"
	git tag base
	git tag "$(base_tag "$version")"
)
mv "$src" "$TREE"
rmdir "$TREE.tmp"
echo "$version" > "$BUILDB/base-version"
note "base: $(git -C "$TREE" log -1 --format='%h %s')"
