/*
 * core/book.h — an exchange-neutral L2 order book kept from the neutral
 * records a plugin's ws_parse()/parse() emits (struct xgw_book_info followed
 * by its bids and asks), under the sequencing rules of the exchange's book
 * model (internal).
 *
 * Models:
 *   XGW_BOOK_DIFFS      REST snapshot + diffs carrying first_seq (Binance U),
 *                       seq (u) and prev_seq (pu, or -1 when the exchange has
 *                       none). Diffs that arrive before a snapshot, or after
 *                       a gap, are buffered; a snapshot replays them.
 *   XGW_BOOK_SNAPSHOTS  every message replaces the book (Hyperliquid l2Book,
 *                       Bitunix depth): no gap detection is possible, none is
 *                       claimed; snapshot flag and sequence numbers are
 *                       ignored.
 *
 * Sequencing of XGW_BOOK_DIFFS (Binance USD-M futures, binance.md §7):
 *   - Before the first snapshot (state EMPTY) and after a gap (RESYNCING)
 *     diffs are copied into a bounded FIFO and BUFFERED. When the FIFO is
 *     full the OLDEST diffs are dropped (a deliberate choice over "clear
 *     everything": the snapshot that will arrive is newer than the moment it
 *     was asked for, so the newest diffs are the ones it needs; if the kept
 *     ones no longer reach back to the snapshot, the bridging rule below fails
 *     and a new snapshot is asked for).
 *   - A snapshot with lastUpdateId L replaces the book; buffered diffs are
 *     then replayed through the same rules as live ones:
 *       stale:  u < L is dropped (futures; u <= L when prev_seq is absent,
 *               i.e. spot-style exchanges, whose first diff needs U <= L+1).
 *       bridge: the first applied diff needs U <= L && u >= L (futures, as
 *               documented), or pu == L (accepted as ccxt does: the previous
 *               event ended exactly at the snapshot, so this one follows it;
 *               the documented rule alone would refuse the contiguous event
 *               whose U is L+1). Without prev_seq: U <= L+1 <= u (spot).
 *       chain:  afterwards pu must equal the previous u when prev_seq >= 0,
 *               else first_seq must equal the previous u + 1.
 *     A diff whose u is not newer than the book's (a duplicate, e.g. during a
 *     make-before-break overlap of two connections) is IGNORED_STALE; more
 *     than max_stale_run of those in a row counts as a gap (the exchange may
 *     have restarted its ids; never ignore forever).
 *   - Any violation makes the book RESYNCING: it is invalid (top/best give
 *     nothing), the offending diff is the first one buffered, and the result
 *     is GAP_NEEDS_SNAPSHOT. No diff is APPLIED until a snapshot arrives.
 *   - A crossed book (best bid >= best ask) after a snapshot or a diff is
 *     treated as corruption the same way (reason CROSSED), unless
 *     opts.allow_crossed. With max_depth levels kept per side both bests are
 *     always inside the window, so a crossing is never an artefact of the cap.
 *   - A snapshot older than a LIVE book (L < seq) is IGNORED_STALE.
 *
 * Caller rule (stream manager): after every apply, if
 * xgw__book_needs_snapshot() is true and no snapshot request is in flight,
 * request one (the initial one included). Results only say what happened to
 * the message.
 *
 * Storage: per side a sorted array of levels keyed by int64 price ticks at
 * one per-book decimal scale (see book.c), best level at the high end, with
 * free room at both ends so that inserts and removals near the top and at
 * the far end move few entries. At most max_depth levels per side are kept;
 * beyond that the farthest are dropped (and diffs for levels farther than a
 * full side are ignored) — Binance's own caveat applies: such levels may be
 * missing once the price moves towards them.
 *
 * Memory: the steady state allocates nothing per update (level arrays are
 * sized at creation; the scratch array and the diff FIFO grow geometrically
 * and keep their memory).
 *
 * Threading: a book is owned by one thread (the loop thread); no function
 * here locks. Pointers passed in are borrowed for the call.
 */
#ifndef XGW_CORE_BOOK_H
#define XGW_CORE_BOOK_H

#include "xgw/plugin.h"

struct xgw__book;

enum xgw__book_state {
    XGW__BOOK_EMPTY = 0, /* no snapshot yet (or SNAPSHOTS model before the first message) */
    XGW__BOOK_LIVE,      /* valid: top/best answer */
    XGW__BOOK_RESYNCING, /* invalid after a gap; diffs are buffered until a snapshot */
};

enum xgw__book_result {
    XGW__BOOK_APPLIED = 0,        /* the message changed the book (for a snapshot: and replayed the buffer) */
    XGW__BOOK_BUFFERED,           /* a diff kept until a snapshot arrives */
    XGW__BOOK_IGNORED_STALE,      /* older than the book: dropped, the book is unchanged and valid */
    XGW__BOOK_GAP_NEEDS_SNAPSHOT, /* the book just became RESYNCING (see xgw__book_reason) */
    XGW__BOOK_ERROR,              /* malformed message (NONE/negative decimal, missing seq, a price
                                   * not representable, out of memory): nothing applied. For a diff
                                   * on a LIVE book the book becomes RESYNCING (reason BAD_MESSAGE);
                                   * a bad snapshot leaves the book as it was. */
};

/* Why the book last became invalid (or why the last message was refused). */
enum xgw__book_reason {
    XGW__BOOK_R_NONE = 0,
    XGW__BOOK_R_SEQ_GAP,     /* chain broken: pu != previous u (or U != previous u + 1) */
    XGW__BOOK_R_NO_BRIDGE,   /* no buffered/live diff bridges the snapshot's lastUpdateId */
    XGW__BOOK_R_CROSSED,     /* best bid >= best ask */
    XGW__BOOK_R_STALE_RUN,   /* too many stale diffs in a row */
    XGW__BOOK_R_BAD_MESSAGE, /* malformed levels or sequence numbers */
    XGW__BOOK_R_NO_MEMORY,
    XGW__BOOK_R_INVALIDATED, /* xgw__book_invalidate() */
};

struct xgw__book_opts {
    uint32_t max_depth;           /* levels kept per side; 0 = 1000 */
    uint32_t max_buffered_msgs;   /* diff FIFO bound in messages; 0 = 1024 */
    uint32_t max_buffered_levels; /* diff FIFO bound in levels; 0 = 262144 */
    uint32_t max_stale_run;       /* stale diffs in a row tolerated on a LIVE book; 0 = 256 */
    bool allow_crossed;           /* do not treat a crossed book as corruption */
};

/* Counters for metrics; they only grow. */
struct xgw__book_stats {
    uint64_t applied;        /* snapshots and diffs applied */
    uint64_t snapshots;      /* snapshots applied */
    uint64_t buffered;       /* diffs buffered */
    uint64_t stale;          /* diffs (and snapshots) ignored as stale, live or in replay */
    uint64_t gaps;           /* transitions to RESYNCING */
    uint64_t buffer_dropped; /* buffered diffs dropped because the FIFO was full */
    uint64_t errors;         /* ERROR results */
};

/* Create a book. model must be XGW_BOOK_DIFFS or XGW_BOOK_SNAPSHOTS.
 * opts may be NULL (all defaults). NULL on a bad argument or out of memory.
 * Level arrays for max_depth levels per side are allocated here. */
struct xgw__book *xgw__book_new(enum xgw_book_model model, uint32_t max_depth);
struct xgw__book *xgw__book_new_opts(enum xgw_book_model model, const struct xgw__book_opts *opts);
void xgw__book_free(struct xgw__book *b); /* NULL is a no-op */

/* Apply one message: info (snapshot or diff header) and its levels (any
 * order; "best first" is what plugins emit and what is fastest for a
 * snapshot). bids/asks may be NULL when nb/na is 0. Zero qty removes a
 * level (and is skipped in a snapshot). For the same price twice in one
 * message, the later entry wins. */
enum xgw__book_result xgw__book_apply(struct xgw__book *b, const struct xgw_book_info *info,
                                      const struct xgw_level *bids, size_t nb, const struct xgw_level *asks,
                                      size_t na);

enum xgw__book_state xgw__book_state(const struct xgw__book *b);
/* True when a (new) snapshot must be fetched: DIFFS model and not LIVE. */
bool xgw__book_needs_snapshot(const struct xgw__book *b);
/* The last update id applied (snapshot lastUpdateId or diff u); 0 none. */
int64_t xgw__book_seq(const struct xgw__book *b);
/* Exchange timestamp of the last applied message; 0 unknown. */
int64_t xgw__book_ts(const struct xgw__book *b);
enum xgw__book_reason xgw__book_reason(const struct xgw__book *b);
const char *xgw__book_reason_name(enum xgw__book_reason r); /* "seq_gap", "crossed", ... */
const char *xgw__book_result_name(enum xgw__book_result r); /* "applied", ... */
void xgw__book_stats(const struct xgw__book *b, struct xgw__book_stats *out);
/* Levels currently kept on each side (either pointer may be NULL). */
void xgw__book_depth(const struct xgw__book *b, size_t *nb, size_t *na);

/* Copy at most n best levels per side, best first, into bids_out/asks_out
 * (each with room for n; either may be NULL to skip that side). Prices come
 * back with the scale the exchange last sent for that level. Returns false
 * (and *nb = *na = 0) when the book is not LIVE. Copies only what is asked. */
bool xgw__book_top(const struct xgw__book *b, size_t n, struct xgw_level *bids_out, size_t *nb,
                   struct xgw_level *asks_out, size_t *na);
/* Best bid and ask; a missing side gets NONE price and qty. False when the
 * book is not LIVE. Either pointer may be NULL. */
bool xgw__book_best(const struct xgw__book *b, struct xgw_level *bid, struct xgw_level *ask);

/* Mark the book invalid (e.g. a frame for it was dropped by back-pressure,
 * or its connection was replaced): DIFFS → RESYNCING with the FIFO cleared;
 * SNAPSHOTS → EMPTY. */
void xgw__book_invalidate(struct xgw__book *b);
/* Forget everything (state EMPTY, FIFO cleared); keeps the memory. */
void xgw__book_clear(struct xgw__book *b);

/* Compare the whole kept book with an expected list of levels per side,
 * best first, by numeric value ("1.50" == "1.5"). True when equal. Works in
 * any state (tests inspect invalid books too). */
bool xgw__book_equals(const struct xgw__book *b, const struct xgw_level *bids, size_t nb,
                      const struct xgw_level *asks, size_t na);
/* FNV-1a over the normalized values of the n best levels per side (n = 0:
 * all), for cheap comparisons with another implementation (e.g. the mock). */
uint64_t xgw__book_checksum(const struct xgw__book *b, size_t n);

#endif
