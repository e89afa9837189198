/*
 * core/secmem.h — memory for secret values that a core dump must not hold.
 *
 * Secrets (api_secret, plugin keys declared secret, whether written in the
 * configuration or read from a secret file) live in this memory for as long
 * as the gateway runs, instead of the ordinary heap: each allocation is its
 * own anonymous mapping, excluded from core dumps (madvise MADV_DONTDUMP:
 * the kernel's dumper and gdb's gcore both skip it), locked in RAM (mlock)
 * when RLIMIT_MEMLOCK allows so that it is never written to swap either,
 * and wiped and unmapped when freed. A page per secret: a gateway holds a
 * handful. Transient copies (a signature being computed, a line of the
 * configuration being parsed) stay on the stack or heap and are wiped at
 * once by their owners; this module is for what lives long.
 *
 * All functions are thread-safe.
 */
#ifndef XGW_CORE_SECMEM_H
#define XGW_CORE_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

/* n zeroed bytes of secret memory. NULL when the mapping cannot be made or
 * cannot be excluded from core dumps (then nothing is allocated): a secret
 * is never quietly placed where a dump would hold it. */
void *xgw__secmem_alloc(size_t n);

/* A copy of s in secret memory; NULL as above (or when s is NULL). */
char *xgw__secmem_strdup(const char *s);

/* Wipes the whole allocation, unlocks and unmaps it. p is NULL or came
 * from xgw__secmem_alloc/strdup (anything else aborts: freeing a heap
 * pointer here would be a bug that silently unmaps the wrong pages). */
void xgw__secmem_free(void *p);

/* Allocations not yet freed (tests check that every secret is released). */
size_t xgw__secmem_live(void);

/* Whether mlock succeeded for every allocation so far (informational:
 * RLIMIT_MEMLOCK may be 0 in containers; the dump exclusion does not
 * depend on it). */
bool xgw__secmem_locked(void);

#endif
