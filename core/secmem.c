/*
 * core/secmem.c — secret memory: one anonymous mapping per allocation,
 * excluded from core dumps, locked when permitted, wiped on free (see
 * secmem.h). Why not a pool carved from one mapping: secrets are few and
 * long-lived, and a mapping each needs no allocator of its own to get
 * right; the cost is a page per secret.
 */
#define _GNU_SOURCE /* MADV_DONTDUMP */
#include "secmem.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* In front of every block: the mapping's length, and a tag that tells a
 * secret block from a stray pointer at free time. */
struct hdr {
    size_t map_len;
    uint64_t tag;
};
#define TAG 0x78677773656d656dull /* "xgwsemem" */
/* The user part starts at 16 bytes: max_align_t alignment on x86-64/arm64. */
#define HDR_SIZE ((sizeof(struct hdr) + 15u) & ~(size_t)15u)

static atomic_size_t g_live;
static atomic_bool g_unlocked;

void *xgw__secmem_alloc(size_t n)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096u;
    if (n > SIZE_MAX - HDR_SIZE - page) {
        errno = ENOMEM;
        return NULL;
    }
    size_t len = (HDR_SIZE + n + page - 1) / page * page;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    /* Before anything is written into it. Without the exclusion the secret
     * would be no safer than on the heap: refuse rather than pretend. */
    if (madvise(m, len, MADV_DONTDUMP) != 0) {
        int e = errno;
        munmap(m, len);
        errno = e;
        return NULL;
    }
    /* Keeps it out of swap; RLIMIT_MEMLOCK (often 64 KiB, 0 in some
     * containers) may refuse, which costs only that. */
    if (mlock(m, len) != 0)
        atomic_store(&g_unlocked, true);
    struct hdr *h = m;
    h->map_len = len;
    h->tag = TAG;
    atomic_fetch_add(&g_live, 1);
    return (char *)m + HDR_SIZE; /* fresh anonymous pages are zero */
}

char *xgw__secmem_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *p = xgw__secmem_alloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void xgw__secmem_free(void *p)
{
    if (!p)
        return;
    struct hdr *h = (struct hdr *)(void *)((char *)p - HDR_SIZE);
    if (h->tag != TAG)
        abort();
    size_t len = h->map_len;
    /* The kernel zeroes pages before it reuses them, but that is its
     * promise, not ours: wipe as every other secret is wiped. */
    OPENSSL_cleanse(h, len);
    munlock(h, len);
    munmap(h, len);
    atomic_fetch_sub(&g_live, 1);
}

size_t xgw__secmem_live(void) { return atomic_load(&g_live); }

bool xgw__secmem_locked(void) { return !atomic_load(&g_unlocked); }
