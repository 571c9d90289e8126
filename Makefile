# Batched freeing of contiguous order-0 pages: build, boot, verify, measure.
#
#   make            build the series, boot it, run KUnit and test_vmalloc
#   make check      the tests (harness tests, checkpatch, bisect builds, boots)
#   make help       every target and variable
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := all

# The base kernel: bases/$(BASE)/ (base.conf, patches/, ...); builds in build/$(BASE)/.
# 7.3 is current upstream (the series is a follow-up onto its merged code);
# 6.12 is the LTS backport.
PRIMARY   := 7.3
BACKPORTS := 6.12
BASE    ?= $(PRIMARY)
export BASE
VARIANT ?= series
# Kernel config profile: test (debug options, kconfig/test/) or bench
# (production-like, kconfig/bench/); make bench always uses bench.
export PROFILE ?= test
PLAN    ?= smoke
# Guest and run parameters (see scripts/boot.sh).
export MEM ?= 2G
export SMP ?= 2
export ACCEL ?= auto
export ICOUNT ?= 0
export TIMEOUT ?= 900
export KARGS ?= init_on_free=1
export LOOPS ?= 1000

S      := scripts
BUILD  := build
LOGS   := $(BUILD)/$(BASE)/logs
# What differs per base (bases/$(BASE)/base.conf).
conf    = $(shell . bases/$(BASE)/base.conf 2>/dev/null && echo $$$(1))
ifeq ($(wildcard bases/$(BASE)/base.conf),)
$(error no base '$(BASE)': no bases/$(BASE)/base.conf (known: $(notdir $(wildcard bases/*))))
endif
# Export the work tree's commits from this ref (default: what is checked out).
EXPORT_REF ?= HEAD

.PHONY: all check check-base check-quick check-full check-rest reliability mutants help deps base apply build boot run kunit kunit-loop bench bench-candidates floor pcp wakeups latency frag export \
	checkpatch bisect test-harness clean distclean

all: deps base
	$(S)/apply.sh series
	$(S)/build.sh series
	$(MAKE) --no-print-directory run VARIANT=series PLAN=smoke

help:
	@sed -n '/^# Targets/,/^$$/p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

# Targets
#   all          (default) deps, base, build 'series', boot it: KUnit + test_vmalloc smoke
#   check        check-base of 7.3, then check-quick of 6.12 (BASE is ignored)
#   check-base   BASE in full: harness tests, git am + checkpatch, every prefix
#                built, series booted, the base's other kernels booted, its
#                CHECK_MUTANTS caught, reliability entry vm (stress, pressure)
#   check-quick  BASE: git am + checkpatch, series built and booted (smoke)
#   check-rest   what check left out of BASE (check-full runs it for each base)
#   deps         install the Debian packages (root), incl. a base the host's apt serves
#   base         fetch and unpack BASE into build/BASE/linux (git repo, tag 'base')
#   apply        check out VARIANT in build/BASE/linux (base + its patches, git am)
#   build        apply and build VARIANT into build/BASE/out/VARIANT
#   run          boot built VARIANT with PLAN and check the console log
#   boot         build + run VARIANT (series, prefix-N, mutant-M, cand-N, the base's named ones)
#   kunit        the suite through the tree's own tools/testing/kunit/kunit.py
#   kunit-loop   boot built VARIANT COUNT (20) times, KUnit only
#   bench        the base's comparison (BENCH_VARIANTS; RUNS, SCALE, BENCH_MODES)
#   bench-candidates  bases/BASE/candidates/ patch by patch (cand-N kernels)
#   floor        the batched free against its floor (FLOOR_VARIANTS; PROFILE=nothp: no THP)
#   pcp          batched frees and the pcp lists (PCP_VARIANTS, PCP_MEMS, RUNS, PCP_MODES)
#   wakeups      vmalloc's high-order blocks in a fragmented guest: wakeups, reclaim,
#                compaction, time (WAKE_VARIANTS, WAKE_FRAGS, RUNS, WAKE_MODES)
#   latency      wake-up delays while vfree()/vmalloc() run (LATENCY_VARIANTS, RUNS; 6.12)
#   frag         the fragmentation study: a seeded workload per kernel, seed and
#                compaction proactiveness (FRAG_VARIANTS, FRAG_SEEDS, FRAG_TICKS; 7.3)
#   export       regenerate bases/BASE/patches/ from build/BASE/linux's base..EXPORT_REF
#   check-full   check + per base: the rest of bisect, the reliability matrix,
#                every mutant, skip-prepare against matrix entry vm; 7.3: a
#                smoke of make frag (one seed, 300 ticks, order0 and series)
#   reliability  debug builds of the series under stress and pressure
#                (MATRIX=vm kasan lockdep)
#   mutants      deliberately broken kernels the tests and the matrix must catch
#   checkpatch   scripts/checkpatch.pl --strict on every patch
#   bisect       build every prefix of the series
#   clean        remove build outputs (keeps the work tree and ccache)
# Variables: BASE(7.3|6.12) VARIANT PROFILE(test|bench|nothp) PLAN MEM SMP ACCEL(auto|kvm|tcg) ICOUNT(0|1)
#   TIMEOUT KARGS LOOPS KUNIT_FILTER; reliability: REPEAT PRESSURE_MEM

deps:
	@$(S)/deps.sh

base: deps
	@$(S)/fetch-base.sh

apply: base
	$(S)/apply.sh $(VARIANT)

build: apply
	$(S)/build.sh $(VARIANT)

# The KUnit suite is required iff VARIANT's patches add it (scripts/run.sh).
run:
	$(S)/run.sh $(VARIANT) $(PLAN) $(LOGS)/$(VARIANT)-$(PLAN).log

boot: build
	$(MAKE) --no-print-directory run

test-harness: base
	bash tests/run

checkpatch: base
	$(S)/checkpatch.sh

bisect: base
	$(S)/bisect-build.sh

# The base's other kernels (CHECK_VARIANTS), each built and booted (smoke).
check_variants = for v in $(call conf,CHECK_VARIANTS); do \
		$(S)/apply.sh $$v && $(S)/build.sh $$v && \
		$(MAKE) --no-print-directory run VARIANT=$$v PLAN=smoke || exit 1; \
	done

# make check: the primary base in full, each backport quickly (what does
# not fit in CI's time moves to check-full). BASE does not apply.
check: deps
	$(MAKE) --no-print-directory check-base BASE=$(PRIMARY)
	for b in $(BACKPORTS); do $(MAKE) --no-print-directory check-quick BASE=$$b || exit 1; done
	@echo "make check: all steps passed ($(PRIMARY) in full; $(BACKPORTS): git am, checkpatch, series built and booted)"

check-base: deps base
	bash tests/run
	$(S)/apply.sh series
	$(S)/checkpatch.sh
	$(S)/bisect-build.sh
	$(S)/apply.sh series
	$(S)/build.sh series
	$(MAKE) --no-print-directory run VARIANT=series PLAN=smoke
	$(check_variants)
	$(if $(strip $(call conf,CHECK_MUTANTS)),$(S)/mutants.sh $(call conf,CHECK_MUTANTS))
	TIMEOUT=$(RELIABILITY_TIMEOUT) $(S)/reliability.sh vm
	@echo "make check-base BASE=$(BASE): all steps passed"

check-quick: deps base
	$(S)/apply.sh series
	$(S)/checkpatch.sh
	$(S)/build.sh series
	$(MAKE) --no-print-directory run VARIANT=series PLAN=smoke
	@echo "make check-quick BASE=$(BASE): all steps passed"

# The reliability matrix (kconfig/debug/*.config), each entry its own build.
# A stress boot of a debug kernel under TCG takes minutes (KASAN: tens).
MATRIX ?= vm kasan lockdep
RELIABILITY_TIMEOUT ?= 3600
reliability: base
	TIMEOUT=$(RELIABILITY_TIMEOUT) $(S)/reliability.sh $(MATRIX)

# make check plus, per base, what it left out: the bisect builds, other
# kernels and matrix entry vm of the backports, the other matrix entries,
# every mutant against the tests, and a broken batched free (skip-prepare)
# against entry vm.
check-full: check
	for b in $(PRIMARY) $(BACKPORTS); do \
		$(MAKE) --no-print-directory check-rest BASE=$$b || exit 1; \
	done
	@echo "make check-full: all steps passed"

check-rest: base
ifneq ($(BASE),$(PRIMARY))
	$(S)/bisect-build.sh
	$(check_variants)
endif
	TIMEOUT=$(RELIABILITY_TIMEOUT) $(S)/reliability.sh $(if $(filter $(PRIMARY),$(BASE)),$(filter-out vm,$(MATRIX)),$(MATRIX))
	$(S)/mutants.sh
	TIMEOUT=$(RELIABILITY_TIMEOUT) $(S)/mutants.sh --matrix vm skip-prepare
ifeq ($(BASE),$(PRIMARY))
	$(MAKE) --no-print-directory frag $(FRAG_SMOKE)
endif

mutants: base
	$(S)/mutants.sh

# Boot the built series COUNT times, KUnit only, and stop at a failure.
COUNT ?= 20
kunit-loop:
	for i in $$(seq 1 $(COUNT)); do \
		echo "== KUnit boot $$i of $(COUNT)"; \
		$(MAKE) --no-print-directory run VARIANT=$(VARIANT) PLAN=boot \
			| grep -E '^(kunit|result):' || exit 1; \
	done

kunit: base
	$(S)/apply.sh series
	$(S)/kunit.sh

# The comparison of the base's BENCH_VARIANTS: results/BASE/bench-*-MODE.{md,png,json}
# Every mode's report is written; a mode that failed (or missed a target)
# fails bench at the end.
BENCH_MODES ?= tcg icount
bench: deps base
	for v in $$($(S)/bench.sh --variants); do \
		$(S)/apply.sh $$v && PROFILE=bench $(S)/build.sh $$v || exit 1; \
	done
	rc=0; for m in $(BENCH_MODES); do PROFILE=bench $(S)/bench.sh $$m || rc=1; done; exit $$rc

# The contiguous free against its floor: bases/BASE/harness/probe-floor.patch
# on each of the base's FLOOR_VARIANTS (kernel NAME+floor), booted with
# contig_free_floor=: results/BASE/floor-PROFILE-KERNELS-MODE.{md,json}. PROFILE is
# bench (the default here) or nothp (no THP: order 9 is not a pcp order).
FLOOR_PROFILE = $(if $(filter nothp,$(PROFILE)),nothp,bench)
floor: deps base
	for v in $$(PROFILE=$(FLOOR_PROFILE) $(S)/floor.sh --variants); do \
		$(S)/apply.sh $$v && PROFILE=$(FLOOR_PROFILE) $(S)/build.sh $$v || exit 1; \
	done
	rc=0; for m in $(BENCH_MODES); do PROFILE=$(FLOOR_PROFILE) $(S)/floor.sh $$m || rc=1; done; exit $$rc

# What batched frees do to the pcp lists (free_high): test_vmalloc rows with a
# thread per CPU in the base's PCP_VARIANTS, pcp traffic counted by
# tracepoints, in a guest of each size of PCP_MEMS:
# results/BASE/pcp-KERNELS-MEM-MODE.{md,json}.
PCP_MODES ?= icount
PCP_MEMS ?= 512M 2G
pcp: deps base
	for v in $$($(S)/pcp.sh --variants); do \
		$(S)/apply.sh $$v && PROFILE=bench $(S)/build.sh $$v || exit 1; \
	done
	rc=0; for mem in $(PCP_MEMS); do for m in $(PCP_MODES); do MEM=$$mem PROFILE=bench $(S)/pcp.sh $$m || rc=1; done; done; exit $$rc

# What vmalloc()'s high-order blocks cost a guest whose free memory is
# fragmented: allocator calls, kswapd and kcompactd wakeups, reclaim and
# compaction, time, in the base's WAKE_VARIANTS:
# results/BASE/wakeups-KERNELS-FRAG-MODE.{md,json}.
WAKE_MODES ?= icount
wakeups: deps base
	for v in $$($(S)/wakeups.sh --variants); do \
		$(S)/apply.sh $$v && PROFILE=bench $(S)/build.sh $$v || exit 1; \
	done
	rc=0; for m in $(WAKE_MODES); do PROFILE=bench $(S)/wakeups.sh $$m || rc=1; done; exit $$rc

# How long vfree() and vmalloc() of a large area run without a reschedule
# point, under a kernel without involuntary preemption in the kernel (6.12):
# a SCHED_FIFO thread's wake-up delays on the CPU that frees, in the base's
# LATENCY_VARIANTS: results/BASE/latency-KERNELS-MODE.{md,json}.
LATENCY_MODES ?= icount
latency: deps base
	for v in $$($(S)/latency.sh --variants); do \
		$(S)/apply.sh $$v && PROFILE=bench $(S)/build.sh $$v || exit 1; \
	done
	rc=0; for m in $(LATENCY_MODES); do PROFILE=bench $(S)/latency.sh $$m || rc=1; done; exit $$rc

# The fragmentation study: the seeded workload of scripts/guest-fraggen.c in
# each kernel of the base's FRAG_VARIANTS (with the harness module
# bases/BASE/harness/probe-frag.patch), per seed of FRAG_SEEDS and
# proactiveness of FRAG_PROACTIVENESS: results/frag-BASE.{md,json} and charts.
FRAG_MODE ?= icount
# check-rest's smoke of the study: one seed, a short run, two kernels, a
# premise of 1%, its report under build/.
FRAG_SMOKE = FRAG_SEEDS=1 FRAG_PROACTIVENESS=20 FRAG_TICKS=300 FRAG_SAMPLE=50 \
	FRAG_VARIANTS="order0 series" FRAG_MIN_FALL_PCT=1 FRAG_DISCUSSION=none \
	FRAG_OUT=$(CURDIR)/build/$(BASE)/frag-smoke/frag-$(BASE)
frag: deps base
	for v in $$($(S)/frag.sh --variants); do \
		$(S)/apply.sh $$v && PROFILE=bench $(S)/build.sh $$v || exit 1; \
	done
	PROFILE=bench $(S)/frag.sh $(FRAG_MODE)

# The candidates (bases/BASE/candidates/, not yet in the series), measured
# patch by patch against the base's BENCH_CANDIDATE_ANCHORS in one run:
# results/BASE/bench-candidates-MODE.{md,png,json}.
bench-candidates:
	$(MAKE) --no-print-directory bench BENCH_SET=candidates

export: base
	$(S)/export.sh $(EXPORT_REF)

clean:
	rm -rf $(BUILD)/$(BASE)/obj* $(BUILD)/$(BASE)/out $(BUILD)/$(BASE)/out-bench $(LOGS) $(BUILD)/accel

distclean:
	rm -rf $(BUILD)
