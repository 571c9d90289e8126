/* test_case_array[] of lib/test_vmalloc.c, Debian linux-source-7.3 7.3.4 with
 * bases/7.3/patches/0001 (the series' contig_free_test) applied: a fixture of
 * tests/test_bench_rows.py, not the whole file. */
static struct test_case_desc test_case_array[] = {
	{ "fix_size_alloc_test", fix_size_alloc_test, },
	{ "full_fit_alloc_test", full_fit_alloc_test, },
	{ "long_busy_list_alloc_test", long_busy_list_alloc_test, },
	{ "random_size_alloc_test", random_size_alloc_test, },
	{ "fix_align_alloc_test", fix_align_alloc_test, },
	{ "random_size_align_alloc_test", random_size_align_alloc_test, },
	{ "align_shift_alloc_test", align_shift_alloc_test, true },
	{ "pcpu_alloc_test", pcpu_alloc_test, },
	{ "kvfree_rcu_1_arg_vmalloc_test", kvfree_rcu_1_arg_vmalloc_test, },
	{ "kvfree_rcu_2_arg_vmalloc_test", kvfree_rcu_2_arg_vmalloc_test, },
	{ "vm_map_ram_test", vm_map_ram_test, },
	{ "no_block_alloc_test", no_block_alloc_test, true },
	{ "vrealloc_test", vrealloc_test, },
#ifdef CONFIG_CONTIG_ALLOC
	{ "contig_free_test", contig_free_test, },
#endif
	/* Add a new test case here. */
};
