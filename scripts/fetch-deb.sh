#!/bin/bash
# Download the base's source package (BASE_FETCH=download in base.conf) from
# its suite BASE_SUITE alone, and unpack the .deb into $BUILDB/deb (the
# tarball lands in $BUILDB/deb/usr/src/). Nothing is installed and the
# host's apt sources are not touched: apt-get runs with a private sources
# list, state and cache directory ($BUILDB/apt), on the mirror of the host's
# own Debian sources (or BASE_MIRROR), checked with the Debian archive
# keyring. The pinned version is taken while the suite serves it; otherwise
# the newest version of the package, with a warning. The version unpacked is
# recorded in $BUILDB/deb/version; with that version already unpacked (and
# still the one to take), nothing is downloaded.
# Usage: scripts/fetch-deb.sh
# Environment: BASE_MIRROR (the mirror's URI, e.g. http://deb.debian.org/debian)
. "$(dirname "$0")/common.sh"

[ "$BASE_FETCH" = download ] || die "base $BASE is not fetched by download (BASE_FETCH=$BASE_FETCH)"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring not found: install debian-archive-keyring (make deps)"
command -v apt-get >/dev/null || die "apt-get not found (this needs a Debian system)"

# The mirror: BASE_MIRROR, else the URI of the host's Debian sources for
# its own release (from the index targets apt knows; the security archive
# serves only security updates).
mirror=${BASE_MIRROR:-}
if [ -z "$mirror" ]; then
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	targets=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(ORIGIN)' 2>/dev/null || true)
	mirror=$(awk -v c="$codename" '$2 == c && $3 == "Debian" { print $1; exit }' <<<"$targets")
	[ -n "$mirror" ] || die "cannot tell the Debian mirror from the host's apt sources (no index of release '${codename:-?}'; run apt-get update, or set BASE_MIRROR)"
fi
mirror=${mirror%/}

apt=$BUILDB/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/preferences.d" "$LOGS"
echo "deb [signed-by=$keyring] $mirror $BASE_SUITE main" >"$apt/sources.list"
: >>"$apt/status"
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State=$apt" -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
      -o "Dir::Cache=$apt/cache" -o Dir::Etc::Preferences=/dev/null
      -o "Dir::Etc::PreferencesParts=$apt/preferences.d" -o APT::Sandbox::User=root
      -o Debug::NoLocking=1)
log=$LOGS/fetch-deb.log
note "apt-get update of $mirror $BASE_SUITE (private lists: $apt)"
apt-get "${opts[@]}" update >"$log" 2>&1 || { tail -20 "$log" >&2; die "apt-get update of $BASE_SUITE failed (log: $log)"; }
grep -q '^W: .*\(NO_PUBKEY\|not signed\|Failed to fetch\)' "$log" && { tail -20 "$log" >&2; die "apt-get update of $BASE_SUITE: index not verified or not fetched (log: $log)"; }

# The whole madison output is read first (no early-exiting grep in a pipe).
served=$(apt-cache "${opts[@]}" madison "$BASE_PKG" 2>/dev/null | awk -F' *\\| *' '{ print $2 }') || true
[ -n "$served" ] || die "$BASE_PKG is not served by $mirror $BASE_SUITE"
if grep -qxF -- "$BASE_DEB_VERSION" <<<"$served"; then
	version=$BASE_DEB_VERSION
else
	version=$(sort -V <<<"$served" | tail -n1)
	echo "WARNING: $BASE_PKG $BASE_DEB_VERSION (the pin) is not served by $BASE_SUITE; taking the newest, $version" >&2
fi

dest=$BUILDB/deb
if [ "$(cat "$dest/version" 2>/dev/null)" = "$version" ] && [ -f "$BASE_TARBALL" ]; then
	exit 0
fi
note "downloading $BASE_PKG $version from $BASE_SUITE"
rm -f "$apt/cache/archives/"*.deb
(cd "$apt/cache/archives" && apt-get "${opts[@]}" download "$BASE_PKG=$version") >>"$log" 2>&1 ||
	{ tail -20 "$log" >&2; die "apt-get download $BASE_PKG=$version failed (log: $log)"; }
deb=$(ls "$apt/cache/archives/"*.deb 2>/dev/null | head -n1 || true)
[ -n "$deb" ] || die "apt-get download left no .deb in $apt/cache/archives"
rm -rf "$dest" "$dest.tmp"
mkdir -p "$dest.tmp"
dpkg-deb -x "$deb" "$dest.tmp" || die "cannot unpack $deb"
[ -f "$dest.tmp/usr/src/$BASE_PKG.tar.xz" ] || die "$deb holds no usr/src/$BASE_PKG.tar.xz"
echo "$version" >"$dest.tmp/version"
mv "$dest.tmp" "$dest"
rm -f "$deb"
note "$BASE_PKG $version unpacked into $dest"
