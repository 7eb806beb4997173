// What `npm run mutate` mutates, and the in-process tests that may kill each module's mutants.
export const modules = {
  resolve: {
    mutate: ['src/resolve/**/*.ts', '!src/resolve/cli.ts', '!src/resolve/index.ts', '!src/resolve/types.ts'],
    // Not ldd-diff (ld.so over every file of /usr/bin, per mutant) nor the planner's tests
    // (a gcc build per file, per mutant): too slow to run for each of 1,500 mutants here.
    tests: ['test/resolve/cli.test.ts', 'test/resolve/closure.test.ts', 'test/resolve/crafted.test.ts', 'test/resolve/ldcache.test.ts', 'test/resolve/sysroot.test.ts', 'test/resolve/closure-rules.test.ts', 'test/resolve/closure-sysroot.test.ts', 'test/resolve/host-ldcache.test.ts', 'test/resolve/host-ldconf.test.ts', 'test/resolve/host-explain.test.ts', 'test/resolve/host-manifest.test.ts'],
  },
  check: {
    mutate: ['src/check/**/*.ts', '!src/check/cli.ts', '!src/check/index.ts', '!src/check/types.ts'],
    tests: ['test/check/check.test.ts', 'test/check/elf-tables.test.ts', 'test/check/failures.test.ts', 'test/check/name-index.test.ts', 'test/check/object-cache.test.ts', 'test/check/real.test.ts', 'test/check/report-cache.test.ts'],
  },
  rofs: {
    mutate: ['src/image/rofs/**/*.ts'],
    tests: ['test/image/rofs.test.ts', 'test/image/rofs-damage.test.ts', 'test/image/disk.test.ts'],
  },
  // The console verdict, scanner and view. Their in-process tests read real transcripts; the
  // runner's tests (a QEMU boot each) are left out: too slow to run for each mutant.
  verdict: {
    mutate: ['src/run/verdict.ts', 'src/run/scanner.ts', 'src/run/kernel-log.ts', 'src/run/console-view.ts', 'src/run/outcome.ts'],
    tests: ['test/run/scanner.test.ts', 'test/run/verdict.test.ts', 'test/run/console-view.test.ts', 'test/run/outcome.test.ts'],
  },
  // The OCI layer reader: the tar parser, a layer's ingestion into the cache (whiteouts, limits,
  // paths) and the merged view of an image's layers that `from:` reads.
  oci: {
    mutate: ['src/oci/tar.ts', 'src/oci/layer.ts', 'src/oci/merged-fs.ts'],
    tests: ['test/oci/tar.test.ts', 'test/oci/tar-formats.test.ts', 'test/oci/tar-damage.test.ts', 'test/oci/layers.test.ts', 'test/oci/layer-ingest.test.ts', 'test/oci/merged-fs.test.ts'],
  },
};
