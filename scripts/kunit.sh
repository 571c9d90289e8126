#!/bin/bash
# Run the series' KUnit suite with the tree's own kunit.py, as a reviewer
# would: the work tree must hold the series (scripts/apply.sh series).
# Builds its own kernel in $BUILDB/kunit (a separate, full build).
# Usage: scripts/kunit.sh [extra kunit.py run arguments]
. "$(dirname "$0")/common.sh"

[ -f "$TREE/mm/tests/.kunitconfig" ] ||
	die "$TREE has no mm/tests/.kunitconfig: check out the series first (make apply VARIANT=series)"
cd "$TREE"
python3 ./tools/testing/kunit/kunit.py run --arch=x86_64 \
	--kunitconfig=mm/tests --build_dir="$BUILDB/kunit" --jobs="$(nproc)" \
	--timeout=900 --qemu_args='-smp 2' --kernel_args=init_on_free=1 \
	--kernel_args=cma=16M "$@"
