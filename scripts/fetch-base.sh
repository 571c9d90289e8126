#!/bin/bash
# Unpack the Debian kernel source into the work tree $TREE, a git repository
# whose first commit is the base, tagged "base" and debian-<version>.
# Does nothing if the work tree exists already.
. "$(dirname "$0")/common.sh"

if [ -d "$TREE/.git" ] && git -C "$TREE" rev-parse -q --verify base >/dev/null; then
	exit 0
fi
[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL not found: run scripts/deps.sh"
version=$(dpkg-query -W -f='${Version}' "$BASE_PKG")
[ "$version" = "$BASE_DEB_VERSION" ] ||
	echo "WARNING: base is $BASE_PKG $version, not the pinned $BASE_DEB_VERSION" >&2

note "unpacking $BASE_TARBALL ($version) into $TREE"
rm -rf "$TREE" "$TREE.tmp"
mkdir -p "$TREE.tmp"
tar -C "$TREE.tmp" -xf "$BASE_TARBALL"
mv "$TREE.tmp"/linux-source-6.12 "$TREE"
rmdir "$TREE.tmp"

cd "$TREE"
git init -q -b base-tree
git config user.name "Batched Free Project"
git config user.email "batched-free@example.org"
# Debian's top-level .gitignore ignores everything at the top level: -f.
git add -Af
git commit -q -m "Debian $BASE_PKG $version"
git tag base
git tag "$(base_tag "$version")"
echo "$version" > "$BUILD/base-version"
note "base: $(git log -1 --format='%h %s')"
