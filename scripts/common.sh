# Shared settings of the harness scripts (sourced, not run).
# shellcheck shell=bash
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TREE=$BUILD/linux          # kernel work tree: git repo of the base
OBJ=$(realpath -m "${OBJ:-$BUILD/obj}")   # object directory, rebuilt incrementally
OUT=$BUILD/out             # per-variant kernels: $OUT/<variant>/{bzImage,modules/}
PATCHES=$TOP/patches

# The base: Debian's linux-source-6.12 at this version (pinned; see deps.sh).
BASE_PKG=linux-source-6.12
BASE_DEB_VERSION=6.12.117-1~deb12u1
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz

die() { echo "error: $*" >&2; exit 1; }
note() { echo "==> $*" >&2; }

# Tag of the base commit in the work tree; git refs cannot contain '~'.
base_tag() { echo "debian-$(echo "$1" | tr '~' '_')"; }

# Boot settings of the 'pressure' plan, added to the kernel arguments $1: a
# small guest (PRESSURE_MEM) with no CMA area and no KUnit, so that its memory
# is for the test and high-order allocations have to fail and fall back.
pressure_mem() { echo "${PRESSURE_MEM:-384M}"; }
pressure_kargs() { echo "${1:+$1 }cma=0 kunit.enable=0"; }
