/*
 * tools/xgw/main.c — global options, help, dispatch, and the error printers
 * shared by every command (see cli.h).
 *
 *   xgw [-c FILE] [-x INSTANCE] [--plugin-dir DIR] COMMAND [ARGS...]
 *   xgw --help | xgw COMMAND --help | xgw help [COMMAND] | xgw --version
 *
 * Options are parsed by hand rather than with getopt_long: getopt permutes
 * argv and keeps global state, and every command parses its own arguments
 * after the command word (which may look like options).
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

static const struct cli_command *const *tables(void)
{
    static const struct cli_command *const t[] = {cli_cmds_check, cli_cmds_request, cli_cmds_ops, cli_cmds_stream, cli_cmds_serve, NULL};
    return t;
}

static const struct cli_command *find_command(const char *name)
{
    for (const struct cli_command *const *t = tables(); *t; t++)
        for (const struct cli_command *c = *t; c->name; c++)
            if (!strcmp(c->name, name))
                return c;
    return NULL;
}

/* Print s with every line indented. */
static void print_indented(FILE *f, const char *s, const char *indent)
{
    while (s && *s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        fprintf(f, "%s%.*s\n", indent, (int)n, s);
        s = e ? e + 1 : s + n;
    }
}

static void print_help(FILE *f)
{
    fprintf(f, "xgw %s - multi-exchange trading gateway\n\n", xgw_version());
    fputs("Usage: xgw [-c FILE] [-x INSTANCE] [--plugin-dir DIR] COMMAND [ARGS...]\n"
          "       xgw COMMAND --help\n\n"
          "Options:\n"
          "  -c, --config FILE     configuration file (INI)\n"
          "  -x, --instance NAME   act on [exchange.NAME] only (default: every instance)\n"
          "  --plugin-dir DIR      plugin folder; beats $XGW_PLUGIN_DIR and the file's plugin_dir\n"
          "  -h, --help            this text\n"
          "  --version             print the version\n\n"
          "Commands:\n",
          f);
    for (const struct cli_command *const *t = tables(); *t; t++)
        for (const struct cli_command *c = *t; c->name; c++) {
            const char *help = c->help ? c->help : "";
            const char *nl = strchr(help, '\n');
            fprintf(f, "  %-8s %s\n           %.*s\n", c->name, c->usage ? c->usage : "",
                    nl ? (int)(nl - help) : (int)strlen(help), help);
        }
    fputs("\nOutput: one JSON object per line on stdout; errors one JSON object on stderr.\n"
          "Exit status: 0 ok, 1 exchange or network failure, 2 usage or configuration error.\n\n"
          "Configuration keys (section, default, range):\n",
          f);
    for (size_t i = 0; i < xgw__config_n_docs; i++) {
        const struct xgw__cfg_doc *d = &xgw__config_docs[i];
        fprintf(f, "  [%s] %-24s default %-14s %s\n", d->section, d->name, d->def ? d->def : "(unset)", d->range);
    }
    fputs("Plugins declare further keys of their own; see docs/config.md.\n", f);
}

static void print_command_help(FILE *f, const struct cli_command *c)
{
    fprintf(f, "Usage: xgw [-c FILE] [-x INSTANCE] %s %s\n\n", c->name, c->usage ? c->usage : "");
    print_indented(f, c->help, "  ");
}

void cli_print_error(const struct xgw_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    if (!root || !e) {
        fprintf(stderr, "{\"error\":{\"kind\":\"INTERNAL\",\"message\":\"out of memory\"}}\n");
        cJSON_Delete(root);
        return;
    }
    cJSON_AddStringToObject(e, "kind", xgw_err_kind_name(err->kind));
    if (err->kind == XGW_ERR_CONFIG || err->file[0]) {
        cJSON_AddStringToObject(e, "file", err->file);
        cJSON_AddNumberToObject(e, "line", err->line);
        if (err->key[0] || err->kind == XGW_ERR_CONFIG) {
            if (err->key[0])
                cJSON_AddStringToObject(e, "key", err->key);
            else
                cJSON_AddNullToObject(e, "key");
        }
    }
    if (err->exchange[0])
        cJSON_AddStringToObject(e, "exchange", err->exchange);
    if (err->endpoint[0])
        cJSON_AddStringToObject(e, "endpoint", err->endpoint);
    if (err->http_status)
        cJSON_AddNumberToObject(e, "http_status", err->http_status);
    if (err->code)
        cJSON_AddNumberToObject(e, "code", (double)err->code);
    if (err->retry_after_ms)
        cJSON_AddNumberToObject(e, "retry_after_ms", (double)err->retry_after_ms);
    if (err->until_ms)
        cJSON_AddNumberToObject(e, "until_ms", (double)err->until_ms);
    cJSON_AddStringToObject(e, "message", err->message);
    char *s = cJSON_PrintUnformatted(root);
    if (s) {
        fprintf(stderr, "%s\n", s);
        cJSON_free(s);
    } else {
        fprintf(stderr, "{\"error\":{\"kind\":\"INTERNAL\",\"message\":\"out of memory\"}}\n");
    }
    cJSON_Delete(root);
    fflush(stderr);
}

int cli_usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    char *s = NULL;
    if (root && e) {
        cJSON_AddStringToObject(e, "kind", "USAGE");
        cJSON_AddStringToObject(e, "message", msg);
        s = cJSON_PrintUnformatted(root);
    }
    fprintf(stderr, "%s\n", s ? s : "{\"error\":{\"kind\":\"USAGE\",\"message\":\"out of memory\"}}");
    cJSON_free(s);
    cJSON_Delete(root);
    fflush(stderr);
    return CLI_USAGE;
}

/* The value of an option that takes one: "-c FILE", "--config FILE",
 * "--config=FILE". Returns NULL when a is not this option. */
static const char *opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng, bool *missing)
{
    const char *a = argv[*i];
    size_t ll = strlen(lng);
    /* The analyzer does not know that argv[0..argc-1] are never NULL (C11
     * 5.1.2.2.1). */
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
    if (!strncmp(a, lng, ll) && a[ll] == '=')
        return a + ll + 1;
    if ((shrt && !strcmp(a, shrt)) || !strcmp(a, lng)) {
        if (*i + 1 >= argc) {
            *missing = true;
            return NULL;
        }
        return argv[++*i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        bool missing = false;
        const char *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_help(stdout);
            return CLI_OK;
        }
        if (!strcmp(a, "--version")) {
            printf("xgw %s (plugin ABI %u)\n", xgw_version(), XGW_PLUGIN_ABI_VERSION);
            return CLI_OK;
        }
        if ((v = opt_value(argc, argv, &i, "-c", "--config", &missing)))
            c.config = v;
        else if ((v = opt_value(argc, argv, &i, "-x", "--instance", &missing)))
            c.instance = v;
        else if ((v = opt_value(argc, argv, &i, NULL, "--plugin-dir", &missing)))
            c.plugin_dir = v;
        else if (missing)
            return cli_usage_error("option %s needs a value", a);
        else if (!strcmp(a, "--"))
            continue;
        else if (a[0] == '-')
            return cli_usage_error("unknown option %s; see xgw --help", a);
        else
            break;
        if (!*v)
            return cli_usage_error("option %s has an empty value", a);
    }
    if (i >= argc)
        return cli_usage_error("no command given; see xgw --help");

    const char *name = argv[i];
    /* i < argc: not NULL (C11 5.1.2.2.1), whatever the analyzer assumes. */
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
    if (!strcmp(name, "help")) {
        if (i + 1 < argc) {
            const struct cli_command *hc = find_command(argv[i + 1]);
            if (!hc)
                return cli_usage_error("unknown command \"%s\"; see xgw --help", argv[i + 1]);
            print_command_help(stdout, hc);
        } else {
            print_help(stdout);
        }
        return CLI_OK;
    }
    const struct cli_command *cmd = find_command(name);
    if (!cmd)
        return cli_usage_error("unknown command \"%s\"; see xgw --help", name);
    for (int j = i + 1; j < argc; j++) {
        if (!strcmp(argv[j], "--"))
            break;
        if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
            print_command_help(stdout, cmd);
            return CLI_OK;
        }
    }
    return cmd->run(&c, argc - i, argv + i);
}
