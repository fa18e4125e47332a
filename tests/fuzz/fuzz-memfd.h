/* fuzz-memfd.h — the input as a file, for the targets whose parser opens
 * a path: one memfd for the whole run, rewritten with each input and
 * opened by its /proc/self/fd path.  REQUIRE is the including target's. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_input_fd = -1;
static char fuzz_input_path[64];

/* From LLVMFuzzerInitialize; name shows in /proc (and in messages). */
static void
fuzz_input_create(const char *name)
{
    fuzz_input_fd = memfd_create(name, 0);
    if (fuzz_input_fd < 0) {
        perror("memfd_create");
        exit(1);
    }
    snprintf(fuzz_input_path, sizeof fuzz_input_path, "/proc/self/fd/%d", fuzz_input_fd);
}

static void
fuzz_input_write(const uint8_t *data, size_t size)
{
    REQUIRE(ftruncate(fuzz_input_fd, 0) == 0);
    REQUIRE(pwrite(fuzz_input_fd, data, size, 0) == (ssize_t) size);
}
