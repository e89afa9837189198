/*
 * tools/xgw/cli.h — shared pieces of the xgw command-line front end.
 *
 * main.c parses the global options (-c FILE, -x INSTANCE, --plugin-dir DIR)
 * and dispatches to the command table; each cmd_<group>.c implements a few
 * commands. Output: JSON objects one per line on stdout; errors one JSON
 * object on stderr. Exit codes: 0 ok, 1 exchange/network failure, 2 usage or
 * configuration error.
 */
#ifndef XGW_CLI_H
#define XGW_CLI_H

#include "xgw/xgw.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli {
    const char *config;     /* -c */
    const char *instance;   /* -x, NULL = every instance */
    const char *plugin_dir; /* --plugin-dir */
};

struct cli_command {
    const char *name;
    const char *usage;  /* one line: arguments */
    const char *help;   /* a few lines */
    int (*run)(struct cli *c, int argc, char **argv); /* argv[0] is the command name */
};

/* Commands are collected from each cmd_*.c through these tables (NULL-name terminated). */
extern const struct cli_command cli_cmds_check[];   /* cmd_check.c: check */
extern const struct cli_command cli_cmds_request[]; /* cmd_request.c: time markets ticker depth balances positions order orders */
extern const struct cli_command cli_cmds_ops[];     /* cmd_ops.c: metrics */
extern const struct cli_command cli_cmds_stream[];  /* cmd_stream.c: stream */
extern const struct cli_command cli_cmds_serve[];   /* cmd_serve.c: serve */

/* Print {"error":{...}} for err on stderr (CONFIG errors with file/line/key). */
void cli_print_error(const struct xgw_error *err);
/* Print {"error":{"kind":"USAGE","message":...}} on stderr and return CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) XGW_PRINTF(1, 2);
/* Open the gateway for c; on failure prints the error and returns NULL.
 * (Implemented in cmd_request.c.) */
struct xgw_gateway *cli_open(struct cli *c, bool no_network);

/* JSON line building (jsonout.c): each appends ,"k":value (or "k":value
 * right after '{') to b. Decimals as exact strings, NONE/NULL/0-ts as null. */
void cli_j_key(struct xgw_buf *b, const char *k);
void cli_j_str(struct xgw_buf *b, const char *k, const char *v);
void cli_j_int(struct xgw_buf *b, const char *k, long long v);
void cli_j_ts(struct xgw_buf *b, const char *k, int64_t v);
void cli_j_dec_val(struct xgw_buf *b, xgw_dec d);
void cli_j_dec(struct xgw_buf *b, const char *k, xgw_dec d);
void cli_j_levels(struct xgw_buf *b, const char *k, const struct xgw_level *lv, size_t n);

#endif
